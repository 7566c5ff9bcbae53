//! The server's settings, from three places: flags (or their environment
//! variables, `SORI_SERVE_*`), then a TOML file (`--config`, or
//! `server.toml` in Sori's config folder when it exists), then defaults. The
//! providers come from Sori's settings file and the provider flags, as for
//! `ask`; keys only from the keychain or `OPENAI_API_KEY`, never a request.

use super::Limits;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 8765;

/// The file's keys; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<IpAddr>,
    pub port: Option<u16>,
    pub no_auth: Option<bool>,
    pub cors_origins: Option<Vec<String>>,
    pub redis_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub max_upload_mb: Option<u64>,
    pub max_audio_seconds: Option<u64>,
    pub turn_timeout_seconds: Option<u64>,
    pub rate_limit_per_minute: Option<u32>,
    pub rate_limit_burst: Option<u32>,
    pub conversation_ttl_hours: Option<u64>,
    pub shutdown_grace_seconds: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the server's config file {path} could not be read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the server's config file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl FileConfig {
    /// `path`, or the default file if it exists (a missing default is no error).
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default_config_file() {
                Some(p) => (p, false),
                None => return Ok(FileConfig::default()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Invalid { path, message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(FileConfig::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }
}

fn default_config_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("sori").join("server.toml"))
}

/// Where tokens and conversations live by default.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("sori").join("server")
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: IpAddr,
    pub port: u16,
    pub no_auth: bool,
    pub cors: Vec<String>,
    pub redis: Option<String>,
    pub conversation_ttl: Duration,
    pub data_dir: PathBuf,
    pub limits: Limits,
    pub rate_per_minute: u32,
    pub rate_burst: u32,
    pub grace: Duration,
}

/// What the flags (and environment) said; `None` where they said nothing.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<IpAddr>,
    pub port: Option<u16>,
    pub no_auth: bool,
    pub cors: Vec<String>,
    pub redis: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub max_upload_mb: Option<u64>,
    pub max_audio_seconds: Option<u64>,
    pub turn_timeout_seconds: Option<u64>,
    pub rate_limit_per_minute: Option<u32>,
}

impl ServeOptions {
    pub fn resolve(flags: Overrides, file: FileConfig) -> Self {
        let secs = Duration::from_secs;
        ServeOptions {
            listen: flags.listen.or(file.listen).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: flags.port.or(file.port).unwrap_or(DEFAULT_PORT),
            no_auth: flags.no_auth || file.no_auth.unwrap_or(false),
            cors: if flags.cors.is_empty() { file.cors_origins.unwrap_or_default() } else { flags.cors },
            redis: flags.redis.or(file.redis_url).filter(|u| !u.trim().is_empty()),
            conversation_ttl: secs(3600 * file.conversation_ttl_hours.unwrap_or(24)),
            data_dir: flags.data_dir.or(file.data_dir).unwrap_or_else(default_data_dir),
            limits: Limits {
                // OpenAI's own upload limit for speech-to-text.
                upload_bytes: (flags.max_upload_mb.or(file.max_upload_mb).unwrap_or(25) * 1_000_000) as usize,
                audio: secs(flags.max_audio_seconds.or(file.max_audio_seconds).unwrap_or(300)),
                turn: secs(flags.turn_timeout_seconds.or(file.turn_timeout_seconds).unwrap_or(120)),
            },
            rate_per_minute: flags.rate_limit_per_minute.or(file.rate_limit_per_minute).unwrap_or(60),
            rate_burst: file.rate_limit_burst.unwrap_or(10),
            grace: secs(file.shutdown_grace_seconds.unwrap_or(30)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_the_file_over_defaults_and_unknown_keys_are_errors() {
        let file: FileConfig = toml::from_str("port = 9000\nmax_upload_mb = 5\ncors_origins = [\"https://shop.example\"]\n").unwrap();
        let o = ServeOptions::resolve(Overrides { port: Some(9100), ..Default::default() }, file);
        assert_eq!((o.port, o.limits.upload_bytes, o.cors.as_slice()), (9100, 5_000_000, ["https://shop.example".to_string()].as_slice()));
        assert!(o.listen.is_loopback() && !o.no_auth, "loopback and tokens by default");
        assert!(toml::from_str::<FileConfig>("prot = 9000\n").is_err(), "a misspelt key is an error, not ignored");
    }
}

//! The commands the web view can call, grouped by topic, and the error shape
//! they all return. Each is also listed in `build.rs`, so the window's
//! capability must allow it by name. Every command is async (a synchronous
//! one would run on the window's main thread), and whatever blocks (the
//! keychain's D-Bus, files, opening devices) runs on a blocking thread.

pub mod agent;
pub mod app;
pub mod devices;
pub mod google;
pub mod history;
pub mod models;
pub mod secrets;
pub mod session;
pub mod settings;

use serde::Serialize;
use sori_core::app::ProviderSetupError;
use sori_core::provider::openai::BaseUrlError;
use sori_core::provider::{ErrorKind, ProviderError};
use sori_core::secrets::SecretError;
use sori_core::settings::FieldError;

/// What kind of failure a command had; the window branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The session has not started yet.
    NoSession,
    /// Nothing was typed.
    Empty,
    EmptyKey,
    /// No keychain to keep a key in (the user may keep it for this session).
    NoKeychain,
    /// The keychain refused.
    Keychain,
    /// A key would travel unencrypted.
    InsecureUrl,
    /// The provider's address is not a URL.
    InvalidUrl,
    /// Field errors in `fields`.
    Invalid,
    NoConfigDir,
    NoDataDir,
    NoFolder,
    BadFormat,
    /// No recording is kept for that turn.
    NoAudio,
    NoMicrophone,
    /// The provider failed; `error` says how (auth, rate limit, …).
    Provider,
    /// A stage set to run on this computer cannot (its model is not
    /// installed, or its engine is missing).
    Local,
    /// A model could not be installed or removed (the message says why).
    Model,
    /// The user cancelled.
    Cancelled,
    /// The shop's data cannot be read (the message says where and why).
    Shop,
    HistoryOff,
    AudioDevices,
    Io,
    /// Sori itself failed (a bug).
    Internal,
}

/// What a failed command gives the UI: a stable `kind` to branch on, the
/// provider's own failure kind when a provider failed, a message that is
/// safe to show (never a key), and field errors for forms.
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub kind: Failure,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorKind>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl CommandError {
    pub fn new(kind: Failure, message: impl ToString) -> Self {
        CommandError { kind, message: message.to_string(), error: None, fields: Vec::new() }
    }
}

/// Runs blocking work (D-Bus, files, devices) off the async workers.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work).await.map_err(|e| CommandError::new(Failure::Internal, e))
}

impl From<ProviderError> for CommandError {
    fn from(e: ProviderError) -> Self {
        CommandError { error: Some(e.kind.clone()), ..CommandError::new(Failure::Provider, e.message) }
    }
}

impl From<BaseUrlError> for CommandError {
    fn from(e: BaseUrlError) -> Self {
        let kind = match e {
            BaseUrlError::InsecureKey(_) => Failure::InsecureUrl,
            BaseUrlError::Invalid(_) => Failure::InvalidUrl,
        };
        CommandError::new(kind, e)
    }
}

impl From<SecretError> for CommandError {
    fn from(e: SecretError) -> Self {
        let kind = match e {
            SecretError::Unavailable { .. } => Failure::NoKeychain,
            SecretError::Failed { .. } => Failure::Keychain,
        };
        CommandError::new(kind, e)
    }
}

impl From<ProviderSetupError> for CommandError {
    fn from(e: ProviderSetupError) -> Self {
        match e {
            ProviderSetupError::BaseUrl { source, .. } => source.into(),
            ProviderSetupError::Keychain(e) => e.into(),
            e @ ProviderSetupError::Local { .. } => CommandError::new(Failure::Local, e),
        }
    }
}

impl From<sori_core::audio::DeviceError> for CommandError {
    fn from(e: sori_core::audio::DeviceError) -> Self {
        CommandError::new(Failure::AudioDevices, e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::new(Failure::Io, e)
    }
}

impl From<sori_core::engine::OpenError> for CommandError {
    fn from(e: sori_core::engine::OpenError) -> Self {
        let kind = match e {
            sori_core::engine::OpenError::HistoryOff => Failure::HistoryOff,
            _ => Failure::Io,
        };
        CommandError::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_failure_keeps_its_kind_for_the_window() {
        let limited = ProviderError::new(ErrorKind::RateLimited { retry_after_ms: Some(2000) }, "slow down");
        let json = serde_json::to_value(CommandError::from(limited)).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "provider", "message": "slow down", "error": {"kind": "rate_limited", "retry_after_ms": 2000}}));
        let auth = serde_json::to_value(CommandError::from(ProviderError::new(ErrorKind::Auth, "bad key"))).unwrap();
        assert_eq!(auth["error"]["kind"], "auth");
        let url = serde_json::to_value(CommandError::from(BaseUrlError::Invalid("x".into()))).unwrap();
        assert_eq!(url["kind"], "invalid_url", "not every URL problem is an insecure URL");
    }
}

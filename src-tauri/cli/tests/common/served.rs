//! A real `sori-cli serve` process for the server's tests: its own folders,
//! a free port read from its first line, its logs kept, stopped by SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct Served {
    child: Option<Child>,
    pub url: String,
    pub dir: PathBuf,
}

/// A fresh folder for one server (or a pair sharing one data folder).
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sori-serve-{name}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sori-cli"))
}

impl Served {
    /// Starts the server on a free loopback port with chat, speech-to-text and
    /// speech at `provider` (the testkit), the key in its environment.
    pub fn start(dir: &std::path::Path, provider: &str, args: &[&str]) -> Self {
        Self::start_with_key(dir, provider, args, sori_testkit::TEST_API_KEY)
    }

    /// As `start`, with this provider key in the environment.
    pub fn start_with_key(dir: &std::path::Path, provider: &str, args: &[&str], key: &str) -> Self {
        let mut child = cli()
            .args(["serve", "--port", "0", "--base-url", provider, "--data-dir"])
            .arg(dir.join("data"))
            .args(args)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("xdg-data"))
            .env("OPENAI_API_KEY", key)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .env_remove("OPENAI_BASE_URL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join(format!("stderr-{}.log", NEXT.fetch_add(1, Ordering::SeqCst)))).unwrap())
            .spawn()
            .expect("sori-cli serve starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let url = first.trim().rsplit(' ').next().unwrap_or_default().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "the server said {first:?}; its log: {}", Self::logs_in(dir));
        Served { child: Some(child), url, dir: dir.to_path_buf() }
    }

    fn logs_in(dir: &std::path::Path) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("stderr-") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    /// Everything every server in this folder logged.
    pub fn logs(&self) -> String {
        Self::logs_in(&self.dir)
    }

    /// `sori-cli serve token add NAME`: the token it prints.
    pub fn add_token(&self, name: &str) -> String {
        let out = cli().args(["serve", "token", "add", name, "--data-dir"]).arg(self.dir.join("data")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `sori-cli serve token …` with these arguments, from another process.
    pub fn token_command(&self, args: &[&str]) -> std::process::Output {
        cli().args(["serve", "token"]).args(args).arg("--data-dir").arg(self.dir.join("data")).output().unwrap()
    }

    /// SIGTERM, then the exit status (within 60 s).
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        for _ in 0..600 {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        panic!("the server did not stop within 60 s of SIGTERM");
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A multipart form with the recording in `audio`, as the tutorial's page sends it.
pub fn form(bytes: Vec<u8>, file_name: &str, mime: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part("audio", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()).mime_str(mime).unwrap())
}

/// Server-Sent Events as (name, JSON data), in order.
pub fn parse_sse(body: &str) -> Vec<(String, serde_json::Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?.trim().to_string();
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect::<Vec<_>>().join("\n");
            Some((name, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

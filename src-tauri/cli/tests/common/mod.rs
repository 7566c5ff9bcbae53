//! Helpers shared by sori-cli's integration tests.
#![allow(dead_code)]

/// Rig tests rewire the sound system and the keychain they reach, so they run
/// only inside Sori's rig.
pub fn require_rig() {
    if std::env::var_os("SORI_RIG").is_none() {
        panic!("this test rewires the sound system it reaches, so it runs only inside Sori's rig: tests/rig/with-rig.sh cargo test -p sori-cli");
    }
}

pub mod served;

/// A file in this test binary's own temporary folder.
pub fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sori-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs `sori-cli` against the testkit with `key`, with no settings file of the user's.
pub fn cli(server: &sori_testkit::TestServer, key: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(args)
        .env("OPENAI_API_KEY", key)
        .env("OPENAI_BASE_URL", server.base_url())
        .env("XDG_CONFIG_HOME", temp("no-config"))
        .output()
        .unwrap()
}

//! The key never shows in `sori-cli`'s output: turns with the key in its
//! environment, through faults, then stdout, stderr and every file written are
//! searched for the key.

use sori_core::settings::{Settings, SettingsFile};
use sori_testkit::{Endpoint, Fault, ServerConfig, TestServer};
use std::process::Command;

const KEY: &str = "sori-redaction-test-key-5b8e21c9";

fn assert_no_key(what: &str, text: &str) {
    sori_testkit::leaks::assert_absent(what, text, KEY);
}

#[test]
fn the_key_appears_in_no_output_of_sori_cli() {
    let server = TestServer::start_in_background(ServerConfig { api_key: Some(KEY.into()), ..Default::default() }).unwrap();
    let dir = std::env::temp_dir().join(format!("sori-cli-redaction-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    SettingsFile::at(dir.join("settings.json")).save(&Settings { base_url: server.base_url(), ..Default::default() }).unwrap();
    for (endpoint, fault) in
        [(Endpoint::Chat, Fault::Unauthorized), (Endpoint::Speech, Fault::DropMidBody { after_bytes: 500 }), (Endpoint::Chat, Fault::MalformedSse)]
    {
        server.push_fault(endpoint, fault);
        let out = Command::new(env!("CARGO_BIN_EXE_sori-cli"))
            .args([
                "ask",
                "--text",
                "hi",
                "--json",
                "--settings",
                dir.join("settings.json").to_str().unwrap(),
                "--out",
                dir.join("reply.wav").to_str().unwrap(),
            ])
            .env("OPENAI_API_KEY", KEY)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap();
        assert_no_key("sori-cli's stdout", &String::from_utf8_lossy(&out.stdout));
        assert_no_key("sori-cli's stderr", &String::from_utf8_lossy(&out.stderr));
    }
    assert!(server.requests().iter().any(|r| r.authorization.as_deref() == Some(&format!("Bearer {KEY}"))));
    for (path, text) in sori_testkit::leaks::files_under(&dir) {
        assert_no_key(&path, &text);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

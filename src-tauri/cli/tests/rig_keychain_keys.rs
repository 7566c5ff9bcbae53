//! Keys through Sori's own stores on the real Linux keychains of the rig
//! (Secret Service over D-Bus; the kernel keyring in the rig's session
//! keyring): store, read, replace, delete, two providers, and `sori-cli key`.
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

#![cfg(target_os = "linux")]

mod common;

use sori_core::secrets::{ApiKey, KeySource, KeychainStore, Keys, SecretStore};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

fn key(s: &str) -> ApiKey {
    ApiKey::new(s).unwrap()
}

fn roundtrip(store: KeychainStore) {
    let name = store.name();
    let openai = format!("https://api.openai.com/v1?{name}");
    let groq = format!("https://api.groq.com/openai/v1?{name}");
    let keys = Keys::new(Ok(Arc::new(store)), None);
    assert!(!keys.status(&openai).set, "{name}: starts empty");
    keys.set(&openai, key("openai-key-1111"), false).unwrap();
    keys.set(&groq, key("groq-key-2222"), false).unwrap();
    let s = keys.status(&openai);
    assert_eq!((s.source, s.last4.as_deref(), s.store.as_deref()), (Some(KeySource::Keychain), Some("1111"), Some(name)));
    assert_eq!(keys.resolve(&groq).unwrap().unwrap().0.expose(), "groq-key-2222", "{name}: two providers, two keys");
    keys.set(&openai, key("openai-key-3333"), false).unwrap();
    assert_eq!(keys.resolve(&openai).unwrap().unwrap().0.expose(), "openai-key-3333", "{name}: replaced");
    keys.clear(&openai).unwrap();
    assert!(!keys.status(&openai).set, "{name}: deleted");
    assert!(keys.status(&groq).set, "{name}: the other provider's key stays");
    keys.clear(&groq).unwrap();
}

#[test]
fn secret_service_keeps_keys_per_provider() {
    common::require_rig();
    roundtrip(KeychainStore::open_named("secret-service").unwrap());
}

#[test]
fn the_kernel_keyring_keeps_keys_per_provider() {
    common::require_rig();
    roundtrip(KeychainStore::open_named("keyutils").unwrap());
}

#[test]
fn the_best_keychain_is_secret_service_when_it_runs() {
    common::require_rig();
    assert_eq!(KeychainStore::open().unwrap().name(), "Secret Service");
}

fn cli(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sori-cli"))
        .args(args)
        .env_remove("OPENAI_API_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn sori_cli_sets_shows_and_clears_a_key_without_printing_it() {
    common::require_rig();
    let url = ["--base-url", "https://cli-test.example/v1"];
    let (code, out, _) = cli(&[&["key"][..], &url, &["set"]].concat(), "cli-secret-key-4444\n", &[]);
    assert_eq!(code, 0);
    assert!(out.contains(r#""source":"keychain""#) && out.contains(r#""last4":"4444""#) && !out.contains("cli-secret"), "{out}");
    let (_, out, _) = cli(&[&["key"][..], &url, &["status"]].concat(), "", &[]);
    assert!(out.contains(r#""store":"Secret Service""#), "{out}");
    let (code, out, _) = cli(&[&["key"][..], &url, &["clear"]].concat(), "", &[]);
    assert_eq!(code, 0);
    assert!(out.contains(r#""set":false"#), "{out}");
}

#[test]
fn without_secret_service_the_kernel_keyring_is_used_and_said() {
    common::require_rig();
    // A session with no Secret Service on its bus (a bare window manager).
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")];
    let url = ["--base-url", "https://no-ss.example/v1"];
    let (code, out, err) = cli(&[&["key"][..], &url, &["set"]].concat(), "kernel-key-5555\n", &no_bus);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""store":"kernel keyring (until you log out)""#), "{out}");
    let (_, out, _) = cli(&[&["key"][..], &url, &["status"]].concat(), "", &no_bus);
    assert!(out.contains(r#""last4":"5555""#), "{out}");
    cli(&[&["key"][..], &url, &["clear"]].concat(), "", &no_bus);
}

//! The `sori-testkit serve` program: prints its base URL first, serves with the
//! default key or with none, and refuses bad arguments.

use super::raw;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> (Served, SocketAddr) {
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_sori-testkit")).arg("serve").args(args).stdout(Stdio::piped()).spawn().expect("run sori-testkit");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base =
        line.trim().strip_prefix("http://").and_then(|s| s.strip_suffix("/v1")).unwrap_or_else(|| panic!("first line is the base URL: {line:?}"));
    (Served(child), base.parse().unwrap())
}

#[test]
fn serve_prints_its_url_and_checks_the_default_key() {
    let (_served, addr) = serve(&["--port", "0"]);
    assert_eq!(raw::request(addr, "GET", "/v1/models", &[], b"").status, 401);
    assert_eq!(raw::request(addr, "GET", "/v1/models", &[("Authorization", super::BEARER)], b"").status, 200);
}

#[test]
fn serve_without_auth_and_with_a_latency_model() {
    let (_served, addr) = serve(&["--port", "0", "--no-auth", "--latency", "typical"]);
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let r = raw::request(addr, "POST", "/v1/chat/completions", &[("Content-Type", "application/json")], body);
    assert_eq!(r.status, 200);
    // The typical model: first token at 350 ms.
    assert!(r.first_byte >= std::time::Duration::from_millis(350), "{:?}", r.first_byte);
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_sori-testkit")).args(["serve", "--latency", "slow"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: sori-testkit serve"));
}

//! Killing Sori (`kill -9`) in the middle of writing settings, of appending
//! history, and of a turn: nothing finished before the kill is lost, and every
//! file still reads.

use sori_core::history::History;
use sori_core::settings::SettingsFile;
use sori_testkit::{LatencyModel, ServerConfig, TestServer, TEST_API_KEY};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sori-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn helper(args: &[&str]) -> (Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sori-crash-helper")).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

fn kill9(child: &mut Child) {
    let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
    let _ = child.wait();
}

/// Reads acknowledgements until `n` arrived; returns the last number seen.
fn wait_for(lines: &mut impl Iterator<Item = std::io::Result<String>>, prefix: &str, n: u64) -> u64 {
    let mut last = 0;
    for line in lines {
        if let Some(v) = line.unwrap().strip_prefix(prefix).and_then(|v| v.trim().parse().ok()) {
            last = v;
            if last >= n {
                break;
            }
        }
    }
    last
}

#[test]
fn settings_survive_a_kill_in_the_middle_of_saving() {
    let d = dir("settings");
    let file = SettingsFile::at(d.join("settings.json"));
    for round in 0..8u64 {
        let (mut child, mut lines) = helper(&["settings", file.path().to_str().unwrap()]);
        let acked = wait_for(&mut lines, "saved ", 3);
        std::thread::sleep(Duration::from_micros(700 * round));
        kill9(&mut child);
        let loaded = file.load();
        assert_eq!(loaded.warnings, Vec::<String>::new(), "round {round}: the file is whole");
        let saved: u64 = loaded.settings.persona.split(' ').next().unwrap().parse().unwrap();
        assert!(saved >= acked, "round {round}: saved {saved} but {acked} was acknowledged");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn history_survives_a_kill_in_the_middle_of_appending() {
    let d = dir("history");
    let history = History::at(&d);
    for round in 0..6u64 {
        let (mut child, mut lines) = helper(&["history", d.to_str().unwrap()]);
        let id = lines.next().unwrap().unwrap().strip_prefix("id ").unwrap().to_string();
        let acked = wait_for(&mut lines, "kept ", 5 + round);
        std::thread::sleep(Duration::from_micros(300 * round));
        kill9(&mut child);
        let records = history.open(&id).expect("the file reads");
        assert!(records.len() as u64 >= acked, "round {round}: {} kept of {acked} acknowledged", records.len());
        assert!(records.iter().enumerate().all(|(i, r)| r.turn == i as u64 + 1 && r.user == format!("question {}", i + 1)));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_kill_in_the_middle_of_a_turn_loses_only_that_turn() {
    let d = dir("turns");
    // Slow enough that the third turn is surely under way when the kill comes.
    let latency = LatencyModel { chat_first_token_ms: 50.0, chat_tokens_per_second: 20.0, ..Default::default() };
    let s = TestServer::start_in_background(ServerConfig { latency, ..Default::default() }).unwrap();
    assert_eq!(s.api_key().as_deref(), Some(TEST_API_KEY));
    let (mut child, mut lines) = helper(&["turns", d.to_str().unwrap(), &s.base_url()]);
    assert_eq!(wait_for(&mut lines, "done ", 2), 2);
    assert_eq!(lines.next().unwrap().unwrap(), "third");
    std::thread::sleep(Duration::from_millis(400));
    kill9(&mut child);
    let history = History::at(&d);
    let list = history.list().unwrap();
    assert_eq!(list.len(), 1);
    let records = history.open(&list[0].id).unwrap();
    assert_eq!(records.iter().map(|r| r.user.as_str()).collect::<Vec<_>>(), ["question 1", "question 2"]);
    assert!(records.iter().all(|r| !r.assistant.is_empty() && !r.interrupted));
    let _ = std::fs::remove_dir_all(&d);
}

use super::*;
use crate::history::export;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("sori-history-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record(turn: u64, user: &str, assistant: &str) -> TurnRecord {
    TurnRecord {
        turn,
        at_ms: 1_000 * turn,
        user: user.into(),
        assistant: assistant.into(),
        interrupted: false,
        incomplete: false,
        reason: None,
        metrics: Default::default(),
        request_type: None,
    }
}

#[test]
fn turns_append_list_open_export_and_delete() {
    let d = Dir::new("basic");
    let h = History::at(&d.0);
    assert!(h.list().unwrap().is_empty());
    let mut log = h.start().unwrap();
    log.append(&record(1, "배송 언제 와요?", "내일 도착해요.")).unwrap();
    let mut cut = record(2, "Thanks", "You're welcome, and");
    cut.interrupted = true;
    log.append(&cut).unwrap();
    let list = h.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].title.as_str(), list[0].turns), ("배송 언제 와요?", 2));
    let records = h.open(&log.id).unwrap();
    assert_eq!(records, [record(1, "배송 언제 와요?", "내일 도착해요."), cut.clone()]);
    let md = export::markdown(&log.id, &records);
    assert!(md.contains("**You:** 배송 언제 와요?") && md.contains("You're welcome, and *(interrupted)*"), "{md}");
    let js: serde_json::Value = serde_json::from_str(&export::json(&log.id, &records)).unwrap();
    assert_eq!(js["turns"][1]["interrupted"], true);
    h.delete(&log.id).unwrap();
    assert!(h.list().unwrap().is_empty());
}

#[test]
fn a_torn_last_line_is_skipped_then_cut_before_appending() {
    let d = Dir::new("torn");
    let h = History::at(&d.0);
    let mut log = h.start().unwrap();
    log.append(&record(1, "one", "first")).unwrap();
    let id = log.id.clone();
    drop(log);
    // A power cut in the middle of writing turn 2.
    let path = d.0.join(format!("{id}.jsonl"));
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(br#"{"turn":2,"at_ms":2000,"user":"two","assis"#).unwrap();
    drop(f);
    assert_eq!(h.open(&id).unwrap(), [record(1, "one", "first")]);
    let mut log = h.resume(&id).unwrap();
    assert_eq!(log.next_turn(), 2);
    log.append(&record(2, "two again", "second")).unwrap();
    assert_eq!(h.open(&id).unwrap(), [record(1, "one", "first"), record(2, "two again", "second")]);
}

#[test]
fn ids_cannot_reach_outside_the_folder_and_clear_removes_all() {
    let d = Dir::new("ids");
    let h = History::at(&d.0);
    assert!(h.open("../settings").is_err());
    assert!(h.delete("/etc/passwd").is_err());
    for _ in 0..3 {
        let mut log = h.start().unwrap();
        log.append(&record(1, "q", "a")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(h.list().unwrap().len(), 3);
    h.clear().unwrap();
    assert!(h.list().unwrap().is_empty());
}

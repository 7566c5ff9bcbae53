//! A conversation as a Markdown transcript or as JSON, for the user to keep.

use super::TurnRecord;
use serde_json::json;

/// A readable transcript; an interrupted reply is marked where it was cut.
pub fn markdown(id: &str, records: &[TurnRecord]) -> String {
    let mut out = format!("# Sori conversation {id}\n\n");
    for r in records {
        out.push_str(&format!("**You:** {}\n\n", r.user.trim()));
        let mark = if r.interrupted { " *(interrupted)*" } else if r.incomplete { " *(incomplete)*" } else { "" };
        out.push_str(&format!("**Sori:** {}{mark}\n\n", r.assistant.trim()));
    }
    out
}

/// Every record with its metrics, as one JSON document.
pub fn json(id: &str, records: &[TurnRecord]) -> String {
    serde_json::to_string_pretty(&json!({ "id": id, "turns": records })).expect("records serialize")
}

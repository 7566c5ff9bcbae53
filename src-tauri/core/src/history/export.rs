//! A conversation as a Markdown transcript or as JSON, for the user to keep.

use super::TurnRecord;
use serde_json::json;

/// A readable transcript; an interrupted reply is marked where it was cut.
pub fn markdown(id: &str, records: &[TurnRecord]) -> String {
    let mut out = format!("# Sori conversation {id}\n\n");
    for r in records {
        let kind = r.request_type.map(|k| format!(" `{}`", k.name())).unwrap_or_default();
        out.push_str(&format!("**You:**{kind} {}\n\n", r.user.trim()));
        let mark = if r.interrupted {
            " *(interrupted)*"
        } else if r.incomplete {
            " *(incomplete)*"
        } else {
            ""
        };
        out.push_str(&format!("**Sori:** {}{mark}\n\n", r.assistant.trim()));
    }
    out
}

/// Every record with its metrics, as one JSON document.
pub fn json(id: &str, records: &[TurnRecord]) -> String {
    serde_json::to_string_pretty(&json!({ "id": id, "turns": records })).expect("records serialize")
}

/// Writes `text` into `dir` as `<stem>.<ext>`, or `<stem> (2).<ext>` and so on
/// when that name is taken: an export never overwrites a file the user kept.
/// Returns the path written.
pub fn save_new(dir: &std::path::Path, stem: &str, ext: &str, text: &str) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    for n in 1..1000 {
        let name = if n == 1 { format!("{stem}.{ext}") } else { format!("{stem} ({n}).{ext}") };
        let path = dir.join(name);
        // create_new: the check and the creation are one step.
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, text.as_bytes())?;
                f.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{stem}.{ext}: too many exports with this name")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn saving_twice_keeps_both_files() {
        let dir = std::env::temp_dir().join(format!("sori-export-{}", std::process::id()));
        let first = super::save_new(&dir, "sori-a1", "md", "one").unwrap();
        let second = super::save_new(&dir, "sori-a1", "md", "two").unwrap();
        assert_eq!(first.file_name().unwrap(), "sori-a1.md");
        assert_eq!(second.file_name().unwrap(), "sori-a1 (2).md");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "two");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

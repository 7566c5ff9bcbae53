use super::*;
use crate::settings::InputMode;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("sori-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self) -> SettingsFile {
        SettingsFile::at(self.0.join("settings.json"))
    }
    fn bad_files(&self) -> Vec<String> {
        std::fs::read_dir(&self.0).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.contains(".bad-")).collect()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_saved_file_loads_back_the_same() {
    let d = Dir::new("roundtrip");
    assert_eq!(d.file().load(), Loaded { settings: Settings::default(), warnings: vec![] });
    let s = Settings {
        voice: "nova".into(),
        speed: 1.25,
        input_mode: InputMode::HandsFree,
        input_device: Some("pulseaudio:mic".into()),
        ..Default::default()
    };
    d.file().save(&s).unwrap();
    assert_eq!(d.file().load(), Loaded { settings: s, warnings: vec![] });
    assert!(std::fs::read_dir(&d.0).unwrap().count() == 1, "no temporary file is left behind");
}

#[test]
fn invalid_settings_are_refused_field_by_field() {
    let d = Dir::new("invalid");
    let s = Settings { speed: 0.0, end_silence_ms: 5000, ..Default::default() };
    match d.file().save(&s) {
        Err(SaveError::Invalid(errors)) => assert_eq!(errors.iter().map(|e| e.field).collect::<Vec<_>>(), ["speed", "end_silence_ms"]),
        other => panic!("expected field errors, got {other:?}"),
    }
    assert!(!d.file().path().exists(), "nothing was written");
}

#[test]
fn damaged_files_are_kept_aside_and_defaults_used() {
    for (name, content) in
        [("truncated", &b"{\"voice\": \"nova\", \"spe"[..]), ("not-json", b"\x00\xffgarbage"), ("not-an-object", b"[1, 2, 3]"), ("empty", b"")]
    {
        let d = Dir::new(name);
        std::fs::write(d.file().path(), content).unwrap();
        let loaded = d.file().load();
        assert_eq!(loaded.settings, Settings::default(), "{name}");
        assert_eq!(loaded.warnings.len(), 1, "{name}");
        assert!(loaded.warnings[0].contains("damaged"), "{name}: {:?}", loaded.warnings);
        let bad = d.bad_files();
        assert_eq!(bad.len(), 1, "{name}");
        assert_eq!(std::fs::read(d.0.join(&bad[0])).unwrap(), content, "{name}: the damaged bytes are kept");
    }
}

#[test]
fn wrong_types_and_bad_values_cost_only_their_own_fields() {
    let d = Dir::new("types");
    std::fs::write(d.file().path(), r#"{"version": 1, "voice": "nova", "speed": "fast", "end_silence_ms": 99999, "history_enabled": false}"#)
        .unwrap();
    let loaded = d.file().load();
    assert_eq!(loaded.settings.voice, "nova");
    assert!(!loaded.settings.history_enabled);
    assert_eq!(loaded.settings.speed, 1.0);
    assert_eq!(loaded.settings.end_silence_ms, 600);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("speed, end_silence_ms"), "{:?}", loaded.warnings);
    assert_eq!(d.bad_files().len(), 1);
}

#[test]
fn fields_from_a_newer_sori_are_kept_through_a_save() {
    let d = Dir::new("future");
    std::fs::write(d.file().path(), r#"{"version": 3, "voice": "sage", "wake_word": "소리야", "avatar": {"shape": "round"}}"#).unwrap();
    let loaded = d.file().load();
    assert_eq!(loaded.settings.voice, "sage");
    assert_eq!(loaded.settings.version, 3);
    assert!(loaded.warnings[0].contains("newer Sori"));
    d.file().save(&loaded.settings).unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(d.file().path()).unwrap()).unwrap();
    assert_eq!(saved["wake_word"], "소리야");
    assert_eq!(saved["avatar"]["shape"], "round");
    assert_eq!(saved["version"], 3, "not downgraded");
}

#[test]
fn older_files_are_migrated() {
    let d = Dir::new("old");
    std::fs::write(d.file().path(), r#"{"model": "gpt-4.1-mini", "tts_voice": "onyx", "openai_base_url": "http://localhost:11434/v1"}"#).unwrap();
    let loaded = d.file().load();
    assert_eq!(loaded.settings.chat_model, "gpt-4.1-mini");
    assert_eq!(loaded.settings.voice, "onyx");
    assert_eq!(loaded.settings.base_url, "http://localhost:11434/v1");
    assert_eq!(loaded.settings.version, 1);
    assert!(loaded.settings.extra.is_empty(), "{:?}", loaded.settings.extra);
    assert!(loaded.warnings[0].contains("older Sori"));
}

#[test]
fn two_recoveries_in_one_second_keep_both_damaged_files() {
    let d = Dir::new("twice");
    std::fs::write(d.file().path(), b"first damage").unwrap();
    let first = d.file().load();
    std::fs::write(d.file().path(), b"second damage").unwrap();
    let second = d.file().load();
    let mut kept: Vec<Vec<u8>> = d.bad_files().iter().map(|n| std::fs::read(d.0.join(n)).unwrap()).collect();
    kept.sort();
    assert_eq!(kept, [b"first damage".to_vec(), b"second damage".to_vec()], "{:?} then {:?}", first.warnings, second.warnings);
    // Each warning names the file it kept.
    let names = d.bad_files();
    assert!(names.iter().all(|n| first.warnings[0].contains(n.as_str()) || second.warnings[0].contains(n.as_str())), "{names:?}");
}

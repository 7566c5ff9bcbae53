//! Realtime mode from settings and keys: where the link connects (the chat
//! stage's server, with its key from the keychain), and the session it asks
//! for (voice, the user's words transcribed, how turns end).

use super::providers::ProviderSetupError;
use crate::event::Stage;
use crate::realtime::events::{SessionConfig, Transcription};
use crate::realtime::link::LinkSetup;
use crate::secrets::Keys;
use crate::settings::{ConversationMode, Settings, StageProvider};
use std::time::Duration;

/// Rotate to a new session this long before the server's limit.
const ROTATE_BEFORE: Duration = Duration::from_secs(120);

/// The transcription models the Realtime API takes for the user's words.
const TRANSCRIBERS: [&str; 3] = ["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1"];

/// The link the settings ask for; `None` in chained mode.
pub fn link_setup(settings: &Settings, keys: &Keys) -> Result<Option<LinkSetup>, ProviderSetupError> {
    if settings.conversation_mode != ConversationMode::Realtime {
        return Ok(None);
    }
    // The chat stage's server, unless chat runs on this computer (then the main one).
    let base_url = match settings.chat_provider {
        StageProvider::Server => settings.server_for(Stage::Chat),
        StageProvider::Local => settings.base_url.as_str(),
    }
    .trim()
    .to_string();
    let key = keys.resolve(&base_url)?.map(|(k, _)| k);
    // The link refuses a key over plain http off this computer; say so now, as chained mode does.
    crate::realtime::connection::realtime_url(&base_url, &settings.realtime_model, key.is_some())
        .map_err(|e| ProviderSetupError::Local { stage: Stage::Chat, message: e.message })?;
    Ok(Some(LinkSetup {
        base_url,
        key,
        model: settings.realtime_model.trim().to_string(),
        session: session(settings),
        tools: Default::default(),
        rotate_before: ROTATE_BEFORE,
    }))
}

/// The session: the Realtime voice and the user's words transcribed in the
/// chosen language. Sori's own voice detection (or push-to-talk) ends each
/// turn and commits it, so the server's turn detection is off: the
/// microphone is not streamed between turns.
pub fn session(settings: &Settings) -> SessionConfig {
    let mut session = SessionConfig::spoken("", settings.realtime_voice.trim(), None);
    let model = if TRANSCRIBERS.contains(&settings.stt_model.as_str()) { settings.stt_model.clone() } else { TRANSCRIBERS[1].to_string() };
    session.audio.input.transcription = Some(Transcription { model, language: settings.stt_language() });
    session.audio.output.speed = settings.speed.clamp(0.25, 1.5);
    session
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{ApiKey, MemoryStore};
    use std::sync::Arc;

    #[test]
    fn realtime_connects_to_the_chat_server_with_its_key_and_asks_for_the_chosen_session() {
        let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), None);
        let chained = Settings::default();
        assert!(link_setup(&chained, &keys).unwrap().is_none());
        keys.set("https://chat.example/v1", ApiKey::new("k-chat-1111").unwrap(), false).unwrap();
        let s = Settings {
            conversation_mode: ConversationMode::Realtime,
            chat_base_url: Some("https://chat.example/v1".into()),
            language: "ko".into(),
            stt_model: "local-whisper".into(),
            ..Settings::default()
        };
        let setup = link_setup(&s, &keys).unwrap().expect("realtime");
        assert_eq!((setup.base_url.as_str(), setup.key.map(|k| k.expose().to_string())), ("https://chat.example/v1", Some("k-chat-1111".into())));
        let t = setup.session.audio.input.transcription.unwrap();
        assert_eq!((t.model.as_str(), t.language.as_deref()), ("gpt-4o-mini-transcribe", Some("ko")));
        assert_eq!(setup.session.audio.input.turn_detection, None, "Sori commits each turn");
        // A key never goes unencrypted to another machine.
        keys.set("http://lan.example/v1", ApiKey::new("k-lan-2222").unwrap(), false).unwrap();
        let lan = Settings { chat_base_url: Some("http://lan.example/v1".into()), ..s };
        assert!(link_setup(&lan, &keys).is_err());
    }
}

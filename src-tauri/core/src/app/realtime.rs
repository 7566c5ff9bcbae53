//! Realtime mode from settings and keys: where the link connects (the chat
//! stage's server, with its key from the keychain), and the session it asks
//! for (voice, the user's words transcribed, how turns end).

use super::providers::ProviderSetupError;
use crate::event::Stage;
use crate::realtime::events::{SessionConfig, Transcription, TurnDetection};
use crate::realtime::link::LinkSetup;
use crate::secrets::Keys;
use crate::settings::{ConversationMode, InputMode, RealtimeTurns, Settings, StageProvider};

/// The transcription models the Realtime API takes for the user's words.
const TRANSCRIBERS: [&str; 3] = ["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1"];

/// The link the settings ask for; `None` in chained mode.
pub fn link_setup(settings: &Settings, keys: &Keys) -> Result<Option<LinkSetup>, ProviderSetupError> {
    if settings.conversation_mode != ConversationMode::Realtime {
        return Ok(None);
    }
    // The chat stage's server, unless chat runs on this computer (then the main one).
    let base_url = match settings.chat_provider {
        StageProvider::Server | StageProvider::Google => settings.server_for(Stage::Chat),
        StageProvider::Local => settings.base_url.as_str(),
    }
    .trim()
    .to_string();
    let key = keys.resolve(&base_url)?.map(|(k, _)| k);
    // The link refuses a key over plain http off this computer; say so now, as chained mode does.
    crate::realtime::connection::realtime_url(&base_url, &settings.realtime_model, key.is_some())
        .map_err(|e| ProviderSetupError::Local { stage: Stage::Chat, message: e.message })?;
    Ok(Some(LinkSetup::new(base_url, key, settings.realtime_model.trim(), session(settings))))
}

/// Whether the server ends the user's turns: Realtime mode, hands-free, and
/// the server's detection chosen. Then the microphone streams to it.
pub fn server_turns(settings: &Settings) -> bool {
    settings.conversation_mode == ConversationMode::Realtime
        && settings.input_mode == InputMode::HandsFree
        && settings.realtime_turns != RealtimeTurns::Sori
}

/// The server's turn detection, when it ends the turns: it answers on its
/// own and stops its answer when the user speaks over it.
fn turn_detection(settings: &Settings) -> Option<TurnDetection> {
    if !server_turns(settings) {
        return None;
    }
    Some(match settings.realtime_turns {
        RealtimeTurns::SemanticVad => TurnDetection::SemanticVad { eagerness: "auto", create_response: true, interrupt_response: true },
        _ => TurnDetection::ServerVad {
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
            create_response: true,
            interrupt_response: true,
        },
    })
}

/// The session: the Realtime voice and the user's words transcribed in the
/// chosen language. Push-to-talk, or Sori's own voice detection, ends each
/// turn and commits it (the server's detection is off and the microphone is
/// not streamed between turns), unless the server's detection is chosen.
pub fn session(settings: &Settings) -> SessionConfig {
    let mut session = SessionConfig::spoken("", settings.realtime_voice.trim(), turn_detection(settings));
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

    #[test]
    fn the_server_ends_turns_only_hands_free_and_when_chosen() {
        let realtime = Settings { conversation_mode: ConversationMode::Realtime, realtime_turns: RealtimeTurns::ServerVad, ..Settings::default() };
        assert_eq!(session(&realtime).audio.input.turn_detection, None, "push-to-talk commits on release");
        let hands_free = Settings { input_mode: InputMode::HandsFree, ..realtime.clone() };
        assert!(server_turns(&hands_free));
        assert!(matches!(
            session(&hands_free).audio.input.turn_detection,
            Some(TurnDetection::ServerVad { create_response: true, interrupt_response: true, .. })
        ));
        let semantic = Settings { realtime_turns: RealtimeTurns::SemanticVad, ..hands_free.clone() };
        assert!(matches!(session(&semantic).audio.input.turn_detection, Some(TurnDetection::SemanticVad { eagerness: "auto", .. })));
        let sori = Settings { realtime_turns: RealtimeTurns::Sori, ..hands_free.clone() };
        assert!(!server_turns(&sori) && session(&sori).audio.input.turn_detection.is_none());
        let chained = Settings { conversation_mode: ConversationMode::Chained, ..hands_free };
        assert!(!server_turns(&chained));
    }
}

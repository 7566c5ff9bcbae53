//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use sori_core::provider::openai::OpenAi;
use sori_core::provider::retry::RetryPolicy;
use sori_core::provider::AudioFormat;
use sori_core::secrets::ApiKey;
use sori_core::text::SplitterConfig;
use sori_core::turn::speaker::Voice;
use sori_core::turn::{Providers, TurnSettings};
use sori_testkit::{TestServer, TEST_API_KEY};
use std::sync::Arc;
use std::time::Duration;

pub fn providers(s: &TestServer) -> Providers {
    let c = OpenAi::new(&s.base_url(), ApiKey::new(TEST_API_KEY)).unwrap();
    let bytes = Some(c.bytes.clone());
    let c = Arc::new(c);
    Providers { stt: c.clone(), chat: c.clone(), tts: c, bytes }
}

pub fn settings() -> TurnSettings {
    TurnSettings {
        stt_model: "gpt-4o-transcribe".into(),
        language: None,
        stt_prompt: None,
        chat_model: "gpt-4o-mini".into(),
        temperature: None,
        voice: Voice { model: "gpt-4o-mini-tts".into(), voice: "coral".into(), style: Some("Warm.".into()), speed: 1.0, format: AudioFormat::Pcm },
        speak: true,
        tts_concurrency: 2,
        retry: RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(20), max_delay: Duration::from_secs(2) },
        splitter: SplitterConfig::default(),
    }
}


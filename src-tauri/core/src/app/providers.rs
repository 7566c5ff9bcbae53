//! Providers from settings and keys, in one place, per stage: each stage
//! (speech-to-text, chat, speech) names where it is served, an
//! OpenAI-compatible server or an engine on this computer, and stages served
//! by the same server share one client (one connection pool). Each server
//! gets its own key from the keychain, and keys go only over https or to
//! this machine. Google Cloud serves the speech stages with the one Google
//! key in the keychain (an API key or a service account's key file).

use crate::event::Stage;
use crate::provider::google::GoogleCloud;
use crate::provider::local::{LocalChat, LocalStt, LocalTts};
use crate::provider::openai::{BaseUrlError, OpenAi};
use crate::provider::{ChatModel, ProviderError, Providers, SpeechToText, TextToSpeech, TransferStats};
use crate::secrets::{Keys, SecretError};
use crate::settings::{Settings, StageProvider};
use std::path::PathBuf;
use std::sync::Arc;

/// Where one stage is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// An OpenAI-compatible server at this base URL.
    OpenAiCompatible { base_url: String },
    /// An engine on this computer; `model` is the folder of its installed
    /// model (for speech, a Piper voice, and espeak-ng needs none; for chat,
    /// the folder of a GGUF file).
    Local { model: Option<PathBuf> },
    /// Google Cloud Speech-to-Text or Text-to-Speech, at Google's own hosts
    /// or under `root`; recognition chooses among `languages` (BCP-47).
    Google { root: Option<String>, languages: Vec<String> },
}

/// Where each stage of a turn is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPlan {
    pub stt: Endpoint,
    pub chat: Endpoint,
    pub tts: Endpoint,
}

impl ProviderPlan {
    /// The stages the settings ask for.
    pub fn from_settings(settings: &Settings) -> Self {
        let server = |stage| Endpoint::OpenAiCompatible { base_url: settings.server_for(stage).to_string() };
        let google = || Endpoint::Google {
            root: settings.google_endpoint.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
            languages: settings.google_languages.clone(),
        };
        let stt = match settings.stt_provider {
            StageProvider::Google => google(),
            StageProvider::Server => server(Stage::Transcription),
            StageProvider::Local => Endpoint::Local { model: crate::models::model_dir(&settings.local_stt_model) },
        };
        let chat = match settings.chat_provider {
            // Validation refuses Google for chat; a hand-edited file gets the server.
            StageProvider::Server | StageProvider::Google => server(Stage::Chat),
            StageProvider::Local => Endpoint::Local { model: crate::models::chat::chat_dir(&settings.local_chat_model) },
        };
        let tts = match settings.tts_provider {
            StageProvider::Google => google(),
            StageProvider::Server => server(Stage::Speech),
            StageProvider::Local => Endpoint::Local { model: crate::models::voice_dir(&settings.local_voice) },
        };
        ProviderPlan { stt, chat, tts }
    }

    /// Whether every stage runs on this computer or a loopback server, so
    /// nothing of a conversation leaves the machine.
    pub fn stays_on_this_computer(&self) -> bool {
        [&self.stt, &self.chat, &self.tts].iter().all(|e| match e {
            Endpoint::Local { .. } => true,
            Endpoint::OpenAiCompatible { base_url } => crate::provider::openai::is_loopback_url(base_url),
            Endpoint::Google { root, .. } => root.as_deref().is_some_and(crate::provider::openai::is_loopback_url),
        })
    }
}

/// Why the providers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    #[error("{source}")]
    BaseUrl {
        stage: Stage,
        #[source]
        source: BaseUrlError,
    },
    #[error("The keychain could not be read: {0}")]
    Keychain(#[from] SecretError),
    /// A stage set to run on this computer cannot.
    #[error("{message}")]
    Local { stage: Stage, message: String },
}

/// A client for one OpenAI-compatible server, with its key (none is fine
/// for servers that need none, such as Ollama or llama.cpp).
pub fn client_for(base_url: &str, keys: &Keys) -> Result<OpenAi, ProviderSetupError> {
    let key = keys.resolve(base_url)?.map(|(k, _)| k);
    OpenAi::new(base_url, key).map_err(|source| ProviderSetupError::BaseUrl { stage: Stage::Chat, source })
}

/// Providers, and a key that could not be read (the keychain refused or is
/// locked): its stage then runs without a key rather than not at all, and the
/// front end tells the user.
pub struct Built {
    pub providers: Providers,
    pub key_problem: Option<SecretError>,
    /// Why some of the agent's tools are off (a shop file that cannot be read).
    pub tool_problem: Option<String>,
}

/// The providers the settings ask for, with the agent's tools: what every
/// front end runs a turn with.
pub fn providers_for(settings: &Settings, keys: &Keys) -> Result<Built, ProviderSetupError> {
    let built = build_providers(&ProviderPlan::from_settings(settings), keys)?;
    let (tools, tool_problem) = super::agent::tools(settings, keys);
    let agent = !tools.is_empty();
    let providers = built.providers.with_tools(tools);
    // The agent sorts each request by type: by the chat model too, when it keeps to a schema.
    let providers = if agent { providers.with_model_classification() } else { providers };
    Ok(Built { providers, tool_problem, ..built })
}

/// The providers for `plan`, all counting into one [`TransferStats`]. Only a
/// base URL that cannot be used, or a local engine that is not there, is an
/// error; a local model is loaded on first use (or by a warm-up).
pub fn build_providers(plan: &ProviderPlan, keys: &Keys) -> Result<Built, ProviderSetupError> {
    let transfer = Arc::new(TransferStats::default());
    let mut clients: Vec<(String, Arc<OpenAi>)> = Vec::new();
    let mut key_problem = None;
    let mut client = |stage: Stage, base_url: &str| -> Result<Arc<OpenAi>, ProviderSetupError> {
        if let Some((_, c)) = clients.iter().find(|(url, _)| url == base_url) {
            return Ok(c.clone());
        }
        let key = keys.resolve(base_url).unwrap_or_else(|e| {
            key_problem = Some(e);
            None
        });
        let c = OpenAi::new(base_url, key.map(|(k, _)| k)).map_err(|source| ProviderSetupError::BaseUrl { stage, source })?;
        let c = Arc::new(c.counting_in(transfer.clone()));
        clients.push((base_url.to_string(), c.clone()));
        Ok(c)
    };
    let mut google_client: Option<Arc<GoogleCloud>> = None;
    let mut google_key_problem = None;
    let mut google = |stage: Stage, root: &Option<String>, languages: &[String]| -> Result<Arc<GoogleCloud>, ProviderSetupError> {
        if let Some(g) = &google_client {
            return Ok(g.clone());
        }
        let credential = super::google::credential(keys).unwrap_or_else(|e| {
            google_key_problem = Some(e);
            None
        });
        let g = GoogleCloud::new(root.as_deref(), credential, languages.to_vec()).map_err(|source| ProviderSetupError::BaseUrl { stage, source })?;
        let g = Arc::new(g.counting_in(transfer.clone()));
        google_client = Some(g.clone());
        Ok(g)
    };
    let local = |stage: Stage, e: ProviderError| ProviderSetupError::Local { stage, message: e.message };
    let stt: Arc<dyn SpeechToText> = match &plan.stt {
        Endpoint::OpenAiCompatible { base_url } => client(Stage::Transcription, base_url)?,
        Endpoint::Google { root, languages } => google(Stage::Transcription, root, languages)?,
        Endpoint::Local { model: Some(dir) } => Arc::new(LocalStt::new(dir)),
        Endpoint::Local { model: None } => {
            return Err(local(Stage::Transcription, ProviderError::new(crate::provider::ErrorKind::Local, "Choose a speech-to-text model.")))
        }
    };
    let chat: Arc<dyn ChatModel> = match &plan.chat {
        Endpoint::OpenAiCompatible { base_url } => client(Stage::Chat, base_url)?,
        Endpoint::Google { .. } => {
            return Err(ProviderSetupError::Local {
                stage: Stage::Chat,
                message: "Google Cloud serves speech only: choose a server or this computer for chat.".into(),
            })
        }
        Endpoint::Local { model: Some(dir) } => Arc::new(LocalChat::new(dir)),
        Endpoint::Local { model: None } => {
            let suggested = crate::models::chat::suggested(crate::models::chat::total_memory()).id;
            return Err(ProviderSetupError::Local {
                stage: Stage::Chat,
                message: format!(
                    "No chat model is installed on this computer: install one under Models in Settings (or run `sori-cli models install {suggested}`), or choose a server for chat."
                ),
            });
        }
    };
    let tts: Arc<dyn TextToSpeech> = match &plan.tts {
        Endpoint::OpenAiCompatible { base_url } => client(Stage::Speech, base_url)?,
        Endpoint::Google { root, languages } => google(Stage::Speech, root, languages)?,
        Endpoint::Local { model } => Arc::new(LocalTts::new(model.clone()).map_err(|e| local(Stage::Speech, e))?),
    };
    let key_problem = key_problem.or(google_key_problem);
    Ok(Built { providers: Providers::new(stt, chat, tts, transfer), key_problem, tool_problem: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{ApiKey, MemoryStore};

    #[test]
    fn each_stage_gets_its_servers_key_and_bad_addresses_name_their_stage() {
        let keys = Keys::new(Ok(Arc::new(MemoryStore::default())), None);
        keys.set("https://stt.example/v1", ApiKey::new("k-stt-1111").unwrap(), false).unwrap();
        let server = |url: &str| Endpoint::OpenAiCompatible { base_url: url.into() };
        let plan =
            ProviderPlan { stt: server("https://stt.example/v1"), chat: server("http://127.0.0.1:9/v1"), tts: server("http://127.0.0.1:9/v1") };
        assert!(build_providers(&plan, &keys).is_ok_and(|b| b.key_problem.is_none()));
        // A key never goes unencrypted off this machine: that stage is named.
        keys.set("http://tts.lan/v1", ApiKey::new("k-tts-2222").unwrap(), false).unwrap();
        let plan = ProviderPlan { tts: server("http://tts.lan/v1"), ..plan };
        match build_providers(&plan, &keys) {
            Err(ProviderSetupError::BaseUrl { stage, source: BaseUrlError::InsecureKey(host) }) => {
                assert_eq!((stage, host.as_str()), (Stage::Speech, "tts.lan"))
            }
            Err(e) => panic!("expected an insecure-key error, got {e}"),
            Ok(_) => panic!("expected an insecure-key error"),
        }
    }

    #[test]
    fn a_keychain_that_cannot_be_read_leaves_the_stage_without_a_key_and_says_so() {
        /// A keychain that refuses every read, as a locked one does.
        struct Locked;
        impl crate::secrets::SecretStore for Locked {
            fn get(&self, _: &str) -> Result<Option<ApiKey>, SecretError> {
                Err(SecretError::unavailable("the keychain is locked"))
            }
            fn set(&self, _: &str, _: &ApiKey) -> Result<(), SecretError> {
                Err(SecretError::unavailable("the keychain is locked"))
            }
            fn delete(&self, _: &str) -> Result<(), SecretError> {
                Ok(())
            }
            fn name(&self) -> &'static str {
                "locked"
            }
            fn persistent(&self) -> bool {
                true
            }
        }
        let keys = Keys::new(Ok(Arc::new(Locked)), None);
        let built = build_providers(&ProviderPlan::from_settings(&Settings::default()), &keys).expect("providers without a key");
        assert!(matches!(built.key_problem, Some(SecretError::Unavailable { .. })));
    }
}

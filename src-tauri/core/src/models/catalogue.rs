//! The models Sori offers: what each is for, its languages, its files (where
//! they come from, their size and sha256), and its licence. Sources are
//! pinned to a revision, so a file and its checksum can never change under
//! us. A mirror (`SORI_MODEL_MIRROR`, or a folder the user points at) serves
//! the same files as `<mirror>/<model id>/<file>`.

use serde::Serialize;

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    SpeechToText,
    Speech,
    Chat,
}

/// One file of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelFile {
    /// Its name inside the model's folder.
    pub name: &'static str,
    pub url: &'static str,
    pub size: u64,
    /// Lowercase hex; every catalogue source publishes one.
    pub sha256: &'static str,
}

/// A file Sori writes itself into the model's folder after the download
/// (settings the source keeps elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WrittenFile {
    pub name: &'static str,
    pub contents: &'static str,
}

/// A model in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: ModelKind,
    /// The engine that loads it (`whisper` is CTranslate2 Whisper).
    pub engine: &'static str,
    /// ISO-639-1 codes it handles well.
    pub languages: &'static [&'static str],
    pub licence: &'static str,
    pub homepage: &'static str,
    pub files: &'static [ModelFile],
    #[serde(skip)]
    pub written: &'static [WrittenFile],
    /// Whether a test loads this engine's models (else the window marks it experimental).
    pub tested: bool,
    /// A small model the set-up installs from a package registry.
    pub starter: bool,
    /// The one to use when nothing is chosen.
    pub recommended: bool,
}

impl ModelInfo {
    /// Bytes to download.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Whisper's feature extractor settings; CTranslate2 model folders on the
/// hub keep them in the original model's repository, so Sori writes them.
const WHISPER_PREPROCESSOR: WrittenFile = WrittenFile {
    name: "preprocessor_config.json",
    contents: r#"{"chunk_length": 30, "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 80, "hop_length": 160,
 "n_fft": 400, "n_samples": 480000, "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
 "processor_class": "WhisperProcessor", "return_attention_mask": false, "sampling_rate": 16000}
"#,
};

const WHISPER_LANGUAGES: &[&str] = &["ko", "en", "ja", "zh", "es", "fr", "de"];

macro_rules! hf {
    ($repo:literal, $rev:literal, $file:literal) => {
        concat!("https://huggingface.co/", $repo, "/resolve/", $rev, "/", $file)
    };
}

const TOKENIZER_SIZE: u64 = 2_203_239;
const TOKENIZER_SHA: &str = "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab";
const VOCAB_SIZE: u64 = 459_861;
const VOCAB_SHA: &str = "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913";

/// Every model Sori offers, best first within a kind.
pub const CATALOGUE: &[ModelInfo] = &[
    ModelInfo {
        id: "whisper-base",
        name: "Whisper Base",
        kind: ModelKind::SpeechToText,
        engine: "whisper",
        languages: WHISPER_LANGUAGES,
        licence: "MIT",
        homepage: "https://huggingface.co/Systran/faster-whisper-base",
        files: &[
            ModelFile {
                name: "config.json",
                url: hf!("Systran/faster-whisper-base", "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66", "config.json"),
                size: 2_309,
                sha256: "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            },
            ModelFile {
                name: "model.bin",
                url: hf!("Systran/faster-whisper-base", "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66", "model.bin"),
                size: 145_217_532,
                sha256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            },
            ModelFile {
                name: "tokenizer.json",
                url: hf!("Systran/faster-whisper-base", "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66", "tokenizer.json"),
                size: TOKENIZER_SIZE,
                sha256: TOKENIZER_SHA,
            },
            ModelFile {
                name: "vocabulary.txt",
                url: hf!("Systran/faster-whisper-base", "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66", "vocabulary.txt"),
                size: VOCAB_SIZE,
                sha256: VOCAB_SHA,
            },
        ],
        written: &[WHISPER_PREPROCESSOR],
        tested: true,
        starter: true,
        recommended: true,
    },
    ModelInfo {
        id: "whisper-small",
        name: "Whisper Small",
        kind: ModelKind::SpeechToText,
        engine: "whisper",
        languages: WHISPER_LANGUAGES,
        licence: "MIT",
        homepage: "https://huggingface.co/Systran/faster-whisper-small",
        files: &[
            ModelFile {
                name: "config.json",
                url: hf!("Systran/faster-whisper-small", "536b0662742c02347bc0e980a01041f333bce120", "config.json"),
                size: 2_370,
                sha256: "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828",
            },
            ModelFile {
                name: "model.bin",
                url: hf!("Systran/faster-whisper-small", "536b0662742c02347bc0e980a01041f333bce120", "model.bin"),
                size: 483_546_902,
                sha256: "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671",
            },
            ModelFile {
                name: "tokenizer.json",
                url: hf!("Systran/faster-whisper-small", "536b0662742c02347bc0e980a01041f333bce120", "tokenizer.json"),
                size: TOKENIZER_SIZE,
                sha256: TOKENIZER_SHA,
            },
            ModelFile {
                name: "vocabulary.txt",
                url: hf!("Systran/faster-whisper-small", "536b0662742c02347bc0e980a01041f333bce120", "vocabulary.txt"),
                size: VOCAB_SIZE,
                sha256: VOCAB_SHA,
            },
        ],
        written: &[WHISPER_PREPROCESSOR],
        tested: true,
        starter: false,
        recommended: false,
    },
];

/// The catalogue's model `id`.
pub fn find(id: &str) -> Option<&'static ModelInfo> {
    CATALOGUE.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_well_formed() {
        for m in CATALOGUE {
            assert!(super::super::valid_id(m.id), "{}", m.id);
            assert!(!m.files.is_empty() && !m.licence.is_empty(), "{}", m.id);
            for f in m.files {
                assert!(f.url.starts_with("https://"), "{}: {}", m.id, f.url);
                assert!(f.sha256.len() == 64 && f.sha256.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{}", f.name);
                assert!(!f.name.contains('/') && !f.name.starts_with('.'), "{}", f.name);
            }
        }
        assert_eq!(CATALOGUE.iter().filter(|m| m.recommended && m.kind == ModelKind::SpeechToText).count(), 1);
        assert_eq!(find("whisper-base").map(|m| m.size()), Some(147_882_941));
    }
}

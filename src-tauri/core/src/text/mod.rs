//! Text on its way to the voice: splitting a streamed reply into speakable chunks.

pub mod clauses;

pub use clauses::{Chunk, ClauseSplitter, SplitterConfig};

/// Whether `text` has any Hangul: what a speech engine that needs a language
/// reads it as Korean by.
pub fn is_korean(text: &str) -> bool {
    text.chars().any(clauses::is_hangul)
}

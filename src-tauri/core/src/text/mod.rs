//! Text on its way to the voice: splitting a streamed reply into speakable chunks.

pub mod clauses;

pub use clauses::{Chunk, ClauseSplitter, SplitterConfig};

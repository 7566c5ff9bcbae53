//! Text from token pieces: a token may end inside a UTF-8 character (Korean
//! syllables often span two byte-level tokens), so bytes wait until their
//! character is whole.

/// Turns a stream of byte pieces into whole characters.
#[derive(Debug, Default)]
pub(crate) struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    /// The whole characters `bytes` completes (maybe none).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // A broken sequence in the middle can never become whole: let it
            // through as U+FFFD rather than hold the reply back for ever.
            Err(e) if e.error_len().is_some() => self.pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let rest = self.pending.split_off(valid);
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending = rest;
        text
    }

    /// Whatever is left at the end of the reply.
    pub(crate) fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_korean_syllable_split_over_two_tokens_comes_out_whole() {
        let bytes = "안녕하세요, hi".as_bytes();
        let mut pieces = Utf8Pieces::default();
        let mut out = Vec::new();
        for chunk in bytes.chunks(2) {
            out.push(pieces.push(chunk));
        }
        out.push(pieces.finish());
        assert_eq!(out.concat(), "안녕하세요, hi");
        // No piece ever carried half a character.
        assert!(out.iter().all(|p| !p.contains('\u{FFFD}')));
        assert_eq!(out[0], "", "the first two bytes of 안 are not a character yet");
    }

    #[test]
    fn bytes_that_can_never_be_text_are_let_through_as_replacement_characters() {
        let mut pieces = Utf8Pieces::default();
        assert_eq!(pieces.push(&[0xff, b'a']), "\u{FFFD}a");
        assert_eq!(pieces.push(&[0xec, 0x95]), "");
        assert_eq!(pieces.finish(), "\u{FFFD}");
    }
}

//! Turns a streamed reply (text deltas) into speakable chunks as early as is
//! natural: the first chunk at the first clause boundary that is a few words
//! long (comma, `、`, Korean connective endings such as -고, -는데, -지만, -면),
//! later ones at sentence ends (`.!?…` before a space, `。！？` anywhere, a
//! newline). Not inside quotes, a decimal number (3.5), an abbreviation
//! (e.g., Mr.) or a list number (1.); a `"` right after a digit is an inch or
//! seconds mark (6.1"), not a quote. No chunk grows past the length cap while
//! it has any boundary at all, inside quotes or not: a stray quote can never
//! hold back the voice. Feeding the text in any pieces gives the same chunks
//! as feeding it whole.

/// Tuning of the splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitterConfig {
    /// Words the first chunk needs before a clause boundary may end it.
    pub min_first_words: usize,
    /// Korean connective endings need a longer clause than punctuation, since
    /// nouns can end in the same syllables (최고, 화면).
    pub min_korean_clause_words: usize,
    /// No chunk is longer than this many characters while it has a boundary
    /// (a sentence end, a clause mark, a space) to be cut at: one run-on
    /// sentence or an unclosed quote cannot hold back the voice.
    pub max_chunk_chars: usize,
}

impl Default for SplitterConfig {
    fn default() -> Self {
        SplitterConfig { min_first_words: 2, min_korean_clause_words: 3, max_chunk_chars: 180 }
    }
}

/// A speakable piece of the reply, and where it sits in the whole reply text
/// (in characters, so the UI can mark exactly where speech was cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub text: String,
    /// Characters of the reply before this chunk.
    pub start: usize,
    /// `start` plus the chunk's length in characters.
    pub end: usize,
}

/// How good a place to cut is, when the length cap forces a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    Space = 0,
    Clause = 1,
    Sentence = 2,
}

/// A place the chunk could end, remembered for the length cap, with the
/// quote state right after it (scanning restarts there).
#[derive(Debug, Clone, Copy, Default)]
struct Candidate {
    end: usize,
    quote: Option<char>,
}

/// Incremental splitter: [`push`](Self::push) deltas as they stream in, take
/// the finished chunks it returns, and [`finish`](Self::finish) at the end of
/// the reply for whatever is left.
#[derive(Debug, Clone, Default)]
pub struct ClauseSplitter {
    config: SplitterConfig,
    /// Text not yet emitted.
    buf: String,
    /// Byte offset in `buf` of the first character not yet judged (judging a
    /// character needs the one after it).
    pos: usize,
    /// Characters in `buf[..pos]`.
    judged: usize,
    /// The closing quote we are waiting for, if inside a quotation.
    quote: Option<char>,
    /// The latest place of each strength where the chunk could end within the cap.
    candidates: [Option<Candidate>; 3],
    emitted: usize,
    /// Characters of the reply before `buf`.
    offset: usize,
}

const ABBREVIATIONS: &[&str] =
    &["e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "approx", "dept", "inc", "ltd", "u.s", "a.m", "p.m"];
const KOREAN_CONNECTIVES: &[&str] = &["는데", "은데", "인데", "지만", "니까", "으면", "고", "면", "며", "서"];
/// Quotative endings look like -고 but quote speech inside a clause ("…라고 하셨죠").
const KOREAN_QUOTATIVES: &[&str] = &["라고", "다고", "자고", "냐고"];

impl ClauseSplitter {
    pub fn new(config: SplitterConfig) -> Self {
        ClauseSplitter { config, ..Default::default() }
    }

    /// Adds streamed text; returns the chunks it completed, in order.
    pub fn push(&mut self, delta: &str) -> Vec<Chunk> {
        self.buf.push_str(delta);
        let mut out = Vec::new();
        loop {
            if self.pos == 0 {
                // A chunk never starts with space, however the text was cut into deltas.
                let lead = self.buf.len() - self.buf.trim_start().len();
                self.offset += self.buf.drain(..lead).count();
            }
            let Some(end) = self.next_boundary() else { break };
            let taken: String = self.buf.drain(..end).collect();
            let chunk = self.chunk_of(&taken);
            self.offset += taken.chars().count();
            (self.pos, self.judged, self.candidates) = (0, 0, [None; 3]);
            if let Some(chunk) = chunk {
                self.emitted += 1;
                out.push(chunk);
            }
        }
        out
    }

    /// Ends the reply: the rest, if any text is left (in more than one chunk
    /// when it is longer than the cap). The splitter is then ready for the
    /// next reply.
    pub fn finish(&mut self) -> Vec<Chunk> {
        // The end of the reply is like a space after its last character,
        // which can then be judged too.
        let mut out = self.push(" ");
        let rest = std::mem::take(&mut self.buf);
        out.extend(self.chunk_of(&rest));
        *self = ClauseSplitter::new(self.config);
        out
    }

    /// `taken` (the text at the front of `buf`) as a chunk, trimmed.
    fn chunk_of(&self, taken: &str) -> Option<Chunk> {
        let text = taken.trim();
        if text.is_empty() {
            return None;
        }
        let lead = taken.len() - taken.trim_start().len();
        let start = self.offset + taken[..lead].chars().count();
        Some(Chunk { text: text.to_string(), start, end: start + text.chars().count() })
    }

    /// Scans from `pos`; returns the byte end of the next chunk, if one is complete.
    fn next_boundary(&mut self) -> Option<usize> {
        loop {
            let mut chars = self.buf[self.pos..].chars();
            let c = chars.next()?;
            let next = chars.next()?; // judging `c` needs the character after it
            let i = self.pos;
            let end = i + c.len_utf8();
            self.pos = end;
            self.judged += 1;
            let judged = self.judge(c, next, i);
            if self.judged > self.config.max_chunk_chars {
                // Past the cap: the best place to cut within it, else the first boundary after it.
                if let Some(best) = self.candidates.iter().rev().flatten().next().copied() {
                    self.quote = best.quote;
                    return Some(best.end);
                }
                if judged.is_some() {
                    return Some(end);
                }
                continue;
            }
            match judged {
                Some(None) => return Some(end),
                Some(Some(strength)) => self.candidates[strength as usize] = Some(Candidate { end, quote: self.quote }),
                None => {}
            }
        }
    }

    /// Whether the chunk may end after `c` (at byte `i`): `Some(None)` it
    /// ends here; `Some(Some(strength))` it could, if the cap forces a cut;
    /// `None` it cannot. Keeps track of quotes.
    fn judge(&mut self, c: char, next: char, i: usize) -> Option<Option<Strength>> {
        if c == '\n' {
            // A quote does not span lines: one left open was a stray mark.
            self.quote = None;
            return self.is_sentence_end(c, next, i).then_some(None);
        }
        if let Some(close) = self.quote {
            if c == close {
                self.quote = None;
            } else if self.is_sentence_end(c, next, i) {
                return Some(Some(Strength::Sentence));
            } else if self.is_clause_mark(c, next, i) {
                return Some(Some(Strength::Clause));
            }
            return c.is_whitespace().then_some(Some(Strength::Space));
        }
        let after_digit = self.buf[..i].chars().next_back().is_some_and(|p| p.is_ascii_digit());
        if let Some(close) = closing_quote(c).filter(|_| !(c == '"' && after_digit)) {
            self.quote = Some(close);
            return None;
        }
        if self.is_sentence_end(c, next, i) {
            return Some(None);
        }
        if self.is_clause_mark(c, next, i) {
            return Some(if self.first_clause_may_end(c, i) { None } else { Some(Strength::Clause) });
        }
        c.is_whitespace().then_some(Some(Strength::Space))
    }

    fn is_sentence_end(&self, c: char, next: char, i: usize) -> bool {
        match c {
            '。' | '！' | '？' => true,
            '\n' => !self.buf[..i].trim().is_empty(),
            '.' | '!' | '?' | '…' => next.is_whitespace() && !(c == '.' && self.is_abbreviation_or_number(i)),
            _ => false,
        }
    }

    /// A comma-like mark (or a Korean connective ending) that ends a clause.
    fn is_clause_mark(&self, c: char, next: char, i: usize) -> bool {
        match c {
            '、' | '，' => true,
            ',' | ';' | ':' => next.is_whitespace(),
            c if is_hangul(c) && next.is_whitespace() => {
                let word = self.buf[..i + c.len_utf8()].split_whitespace().last().unwrap_or_default();
                KOREAN_CONNECTIVES.iter().any(|e| word.ends_with(e) && word.chars().count() > e.chars().count())
                    && !KOREAN_QUOTATIVES.iter().any(|q| word.ends_with(q))
            }
            _ => false,
        }
    }

    /// The first chunk ends at a clause mark once it has enough words.
    fn first_clause_may_end(&self, c: char, i: usize) -> bool {
        let words = self.buf[..i].split_whitespace().count();
        let min = if is_hangul(c) { self.config.min_korean_clause_words } else { self.config.min_first_words };
        self.emitted == 0 && words >= min
    }

    /// Whether the `.` at byte `i` belongs to an abbreviation or a list number
    /// rather than ending a sentence.
    fn is_abbreviation_or_number(&self, i: usize) -> bool {
        let word = self.buf[..i].rsplit(char::is_whitespace).next().unwrap_or_default();
        let bare = word.trim_start_matches(['(', '"', '\'', '“']).to_lowercase();
        if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit()) && bare.len() <= 2 && self.buf[..i].trim_end_matches(word).trim().is_empty() {
            return true; // "1. First, …" at the start of a chunk
        }
        ABBREVIATIONS.contains(&bare.as_str()) || (bare.len() == 1 && bare.chars().all(|c| c.is_alphabetic()) && bare.is_ascii())
    }
}

fn closing_quote(c: char) -> Option<char> {
    Some(match c {
        '"' => '"',
        '“' => '”',
        '「' => '」',
        '『' => '』',
        '«' => '»',
        _ => return None,
    })
}

pub(crate) fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}')
}

/// Splits a whole text at once (for tests and for non-streamed replies).
pub fn split_all(text: &str, config: SplitterConfig) -> Vec<String> {
    let mut s = ClauseSplitter::new(config);
    let mut out = s.push(text);
    out.extend(s.finish());
    out.into_iter().map(|c| c.text).collect()
}

#[cfg(test)]
#[path = "clauses_tests.rs"]
mod tests;

//! Turns a streamed reply (text deltas) into speakable chunks as early as is
//! natural: the first chunk at the first clause boundary that is a few words
//! long (comma, `、`, Korean connective endings such as -고, -는데, -지만, -면),
//! later ones at sentence ends (`.!?…` before a space, `。！？` anywhere, a
//! newline). Never inside quotes, a decimal number (3.5), an abbreviation
//! (e.g., Mr.) or a list number (1.). Feeding the text in any pieces gives the
//! same chunks as feeding it whole.

/// Tuning of the splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitterConfig {
    /// Words the first chunk needs before a clause boundary may end it.
    pub min_first_words: usize,
    /// Korean connective endings need a longer clause than punctuation, since
    /// nouns can end in the same syllables (최고, 화면).
    pub min_korean_clause_words: usize,
    /// A sentence longer than this many characters is split at its next clause
    /// boundary, so one run-on sentence cannot hold back the voice.
    pub max_chunk_chars: usize,
}

impl Default for SplitterConfig {
    fn default() -> Self {
        SplitterConfig { min_first_words: 2, min_korean_clause_words: 3, max_chunk_chars: 180 }
    }
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
    /// The closing quote we are waiting for, if inside a quotation.
    quote: Option<char>,
    emitted: usize,
}

const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "approx", "dept", "inc", "ltd", "u.s", "a.m", "p.m",
];
const KOREAN_CONNECTIVES: &[&str] = &["는데", "은데", "인데", "지만", "니까", "으면", "고", "면", "며", "서"];
/// Quotative endings look like -고 but quote speech inside a clause ("…라고 하셨죠").
const KOREAN_QUOTATIVES: &[&str] = &["라고", "다고", "자고", "냐고"];

impl ClauseSplitter {
    pub fn new(config: SplitterConfig) -> Self {
        ClauseSplitter { config, ..Default::default() }
    }

    /// Adds streamed text; returns the chunks it completed, in order.
    pub fn push(&mut self, delta: &str) -> Vec<String> {
        self.buf.push_str(delta);
        let mut out = Vec::new();
        while let Some(end) = self.next_boundary() {
            let chunk = self.buf[..end].trim().to_string();
            self.buf.drain(..end);
            let lead = self.buf.len() - self.buf.trim_start().len();
            self.buf.drain(..lead);
            self.pos = 0;
            if !chunk.is_empty() {
                self.emitted += 1;
                out.push(chunk);
            }
        }
        out
    }

    /// Ends the reply: the rest, if any text is left. The splitter is then
    /// ready for the next reply.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf).trim().to_string();
        *self = ClauseSplitter::new(self.config);
        (!rest.is_empty()).then_some(rest)
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
            if let Some(close) = self.quote {
                if c == close {
                    self.quote = None;
                }
                continue;
            }
            if let Some(close) = closing_quote(c) {
                self.quote = Some(close);
                continue;
            }
            if self.is_sentence_end(c, next, i) || self.is_clause_end(c, next, i) {
                return Some(end);
            }
        }
    }

    fn is_sentence_end(&self, c: char, next: char, i: usize) -> bool {
        match c {
            '。' | '！' | '？' => true,
            '\n' => !self.buf[..i].trim().is_empty(),
            '.' | '!' | '?' | '…' => next.is_whitespace() && !(c == '.' && self.is_abbreviation_or_number(i)),
            _ => false,
        }
    }

    /// A clause end counts for the first chunk, or for a chunk grown too long.
    fn is_clause_end(&self, c: char, next: char, i: usize) -> bool {
        let first = self.emitted == 0;
        let too_long = self.buf[..i].chars().count() >= self.config.max_chunk_chars;
        if !first && !too_long {
            return false;
        }
        let words = self.buf[..i].split_whitespace().count();
        let enough = |min: usize| too_long || words >= min;
        match c {
            '、' | '，' => enough(self.config.min_first_words),
            ',' | ';' | ':' => next.is_whitespace() && enough(self.config.min_first_words),
            c if is_hangul(c) && next.is_whitespace() => {
                let word = self.buf[..i + c.len_utf8()].split_whitespace().last().unwrap_or_default();
                KOREAN_CONNECTIVES.iter().any(|e| word.ends_with(e) && word.chars().count() > e.chars().count())
                    && !KOREAN_QUOTATIVES.iter().any(|q| word.ends_with(q))
                    && enough(self.config.min_korean_clause_words)
            }
            _ => false,
        }
    }

    /// Whether the `.` at byte `i` belongs to an abbreviation or a list number
    /// rather than ending a sentence.
    fn is_abbreviation_or_number(&self, i: usize) -> bool {
        let word = self.buf[..i].rsplit(char::is_whitespace).next().unwrap_or_default();
        let bare = word.trim_start_matches(['(', '"', '\'', '“']).to_lowercase();
        if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit()) && bare.len() <= 2 && self.buf[..i].trim_end_matches(&word[..]).trim().is_empty() {
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

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}')
}

/// Splits a whole text at once (for tests and for non-streamed replies).
pub fn split_all(text: &str, config: SplitterConfig) -> Vec<String> {
    let mut s = ClauseSplitter::new(config);
    let mut out = s.push(text);
    out.extend(s.finish());
    out
}

#[cfg(test)]
#[path = "clauses_tests.rs"]
mod tests;

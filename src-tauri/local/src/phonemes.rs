//! Text to Piper phoneme ids, the way Piper itself does it: the text is cut
//! into clauses with espeak-ng's own rules, each clause becomes IPA through
//! espeak-ng (`--ipa`, no separators), the clause's punctuation mark is put
//! back, sentences are spoken one by one, and each codepoint maps to its ids
//! with padding between (`^ _ p _ p _ … $`). Checked against Piper's own test
//! sentences (`etc/test_sentences/test_en-us.jsonl`).

use std::collections::HashMap;

/// One clause: its text (with its punctuation), the mark Piper appends to its
/// phonemes, and whether it ends a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub text: String,
    pub mark: &'static str,
    pub ends_sentence: bool,
}

/// Characters after which espeak-ng lets a clause end even without a space.
fn is_bracket(c: char) -> bool {
    "()[]{}<>\"'`«»《》".contains(c) || ('\u{2014}'..='\u{201f}').contains(&c)
}

/// The mark Piper appends for a clause-ending character, and whether it ends
/// a sentence.
fn terminator(c: char) -> Option<(&'static str, bool)> {
    match c {
        '.' | '。' => Some((".", true)),
        '?' | '？' => Some(("?", true)),
        '!' | '！' => Some(("!", true)),
        ',' | '、' | '，' => Some((", ", false)),
        ':' => Some((": ", false)),
        ';' | '\u{2013}' | '\u{2014}' => Some(("; ", false)),
        '\u{2026}' => Some(("", false)),
        _ => None,
    }
}

/// `text` cut into clauses as espeak-ng 1.51 cuts plain text (`ReadClause`):
/// a mark ends a clause when whitespace, the end, `?` or a bracket follows;
/// `e.g. this` (a lowercase word after a dot) goes on; a blank line ends a
/// sentence with no mark; a clause needs a letter or digit before it can end.
pub fn split_clauses(text: &str) -> Vec<Clause> {
    let c: Vec<char> = text.chars().collect();
    let n = c.len();
    let (mut out, mut i, mut start, mut any_alnum) = (Vec::new(), 0usize, 0usize, false);
    let take = |from: usize, to: usize| c[from..to].iter().collect::<String>();
    while i < n {
        let here = c[i];
        if here.is_alphanumeric() {
            any_alnum = true;
        }
        if here == '\n' {
            let (mut j, mut newlines) = (i + 1, 0);
            while j < n && c[j].is_whitespace() {
                newlines += usize::from(c[j] == '\n');
                j += 1;
            }
            if newlines > 0 {
                out.push(Clause { text: take(start, i), mark: "", ends_sentence: true });
                (start, i, any_alnum) = (j, j, false);
                continue;
            }
        }
        let (mut mark_char, mut j) = (here, i + 1);
        if here == '.' && j + 1 < n && c[j] == '.' && c[j + 1] == '.' {
            while j < n && c[j] == '.' {
                j += 1;
            }
            mark_char = '\u{2026}';
        }
        if let Some((mut mark, mut ends_sentence)) = terminator(mark_char) {
            if matches!(mark_char, '?' | '!') {
                while j < n && matches!(c[j], '?' | '!') {
                    j += 1;
                }
            }
            let mut ends = mark_char == '\u{2026}' || c.get(j).is_none_or(|&next| next.is_whitespace() || is_bracket(next) || next == '?');
            if ends {
                let (mut k, mut newlines) = (j, 0);
                while k < n && c[k].is_whitespace() {
                    newlines += usize::from(c[k] == '\n');
                    k += 1;
                }
                if newlines == 0 && ((mark_char == '.' && c.get(k).is_some_and(|x| x.is_lowercase())) || !any_alnum) {
                    ends = false;
                }
                if ends {
                    if newlines > 1 {
                        (mark, ends_sentence) = ("", true);
                    }
                    out.push(Clause { text: take(start, j), mark, ends_sentence });
                    (start, i, any_alnum) = (k, k, false);
                    continue;
                }
            }
        }
        i = j;
    }
    let rest = take(start, n);
    if !rest.trim().is_empty() {
        out.push(Clause { text: rest, mark: "", ends_sentence: true });
    }
    out
}

/// espeak-ng's IPA for one clause, cleaned as Piper cleans it: lines joined by
/// a space and language-switch flags such as `(en)` dropped.
pub fn clean_ipa(espeak_output: &str) -> String {
    let joined = espeak_output.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    let (mut out, mut inside) = (String::with_capacity(joined.len()), false);
    for ch in joined.chars() {
        match (inside, ch) {
            (false, '(') => inside = true,
            (true, ')') => inside = false,
            (false, _) => out.push(ch),
            (true, _) => {}
        }
    }
    out
}

/// Sentences of phonemes for `text`, with `ipa` turning one clause into
/// espeak-ng's IPA.
pub fn sentences<E>(text: &str, mut ipa: impl FnMut(&str) -> Result<String, E>) -> Result<Vec<String>, E> {
    let (mut done, mut current) = (Vec::new(), String::new());
    for clause in split_clauses(text) {
        if clause.text.chars().any(char::is_alphanumeric) {
            current.push_str(&clean_ipa(&ipa(&clause.text)?));
        }
        current.push_str(clause.mark);
        if clause.ends_sentence && !current.trim().is_empty() {
            done.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        done.push(current);
    }
    Ok(done)
}

/// A voice's map from phoneme (one codepoint) to ids.
#[derive(Debug, Clone)]
pub struct PhonemeIds {
    map: HashMap<char, Vec<i64>>,
    pad: Vec<i64>,
    bos: Vec<i64>,
    eos: Vec<i64>,
}

impl PhonemeIds {
    /// The map from a voice's `phoneme_id_map`; it must hold `_`, `^` and `$`.
    pub fn new(map: HashMap<char, Vec<i64>>) -> Result<Self, String> {
        let get = |c: char| map.get(&c).cloned().ok_or_else(|| format!("its phoneme map has no {c:?}"));
        Ok(PhonemeIds { pad: get('_')?, bos: get('^')?, eos: get('$')?, map })
    }

    /// The ids of one sentence: `^`, pad, then each known phoneme followed by
    /// pad, then `$`. Phonemes the voice does not know are left out (as Piper
    /// does); they are returned too, so the caller can say so.
    pub fn ids(&self, sentence: &str) -> (Vec<i64>, Vec<char>) {
        let mut ids = Vec::with_capacity(2 * sentence.len() + 3);
        let mut unknown = Vec::new();
        ids.extend(&self.bos);
        ids.extend(&self.pad);
        for p in sentence.chars() {
            match self.map.get(&p) {
                Some(v) => {
                    ids.extend(v);
                    ids.extend(&self.pad);
                }
                None => unknown.push(p),
            }
        }
        ids.extend(&self.eos);
        (ids, unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(clauses: &[Clause]) -> Vec<(&str, &str, bool)> {
        clauses.iter().map(|c| (c.text.as_str(), c.mark, c.ends_sentence)).collect()
    }

    #[test]
    fn clauses_end_where_espeak_ends_them() {
        assert_eq!(texts(&split_clauses("Hello world. How are you?")), [("Hello world.", ".", true), ("How are you?", "?", true)]);
        assert_eq!(
            texts(&split_clauses("Yes, it ships today: by noon")),
            [("Yes,", ", ", false), ("it ships today:", ": ", false), ("by noon", "", true)]
        );
        // A dot before a lowercase word, and a decimal point, end nothing.
        assert_eq!(
            texts(&split_clauses("Bring e.g. this one. It costs 3.5 dollars")),
            [("Bring e.g. this one.", ".", true), ("It costs 3.5 dollars", "", true)]
        );
        // A run of ?! is one mark, decided by its first character; a blank line ends a sentence with no mark.
        assert_eq!(texts(&split_clauses("Really?! Yes\n\nNext")), [("Really?!", "?", true), ("Yes", "", true), ("Next", "", true)]);
        assert_eq!(texts(&split_clauses("Wait... ok")), [("Wait...", "", false), ("ok", "", true)]);
    }

    #[test]
    fn espeak_output_is_cleaned_as_piper_cleans_it() {
        assert_eq!(clean_ipa(" həlˈoʊ\n wˈɜːld\n"), "həlˈoʊ wˈɜːld");
        assert_eq!(clean_ipa("(en)ɡˈuːɡəl(ko)"), "ɡˈuːɡəl");
    }

    #[test]
    fn sentences_join_clauses_with_their_marks() {
        let fake = |clause: &str| Ok::<_, ()>(clause.trim_end_matches(['.', ',', '?']).to_lowercase());
        assert_eq!(sentences("Yes, sure. Why?", fake).unwrap(), ["yes, sure.", "why?"]);
    }

    #[test]
    fn ids_are_padded_and_unknown_phonemes_are_left_out() {
        let map: HashMap<char, Vec<i64>> = [('_', 0), ('^', 1), ('$', 2), ('a', 14), ('.', 10)].into_iter().map(|(c, i)| (c, vec![i])).collect();
        let ids = PhonemeIds::new(map).unwrap();
        assert_eq!(ids.ids("aqa."), (vec![1, 0, 14, 0, 14, 0, 10, 0, 2], vec!['q']));
        assert!(PhonemeIds::new(HashMap::new()).is_err());
    }
}

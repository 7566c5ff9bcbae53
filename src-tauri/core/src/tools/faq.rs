//! Answers from a folder of Markdown files the user keeps: each `##`
//! section is a passage, ranked against the question with BM25 over words
//! and character bigrams, so Korean matches without a morphological
//! analyser ("배송은" finds "배송") and nothing leaves the computer.

use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A passage of the knowledge folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Passage {
    /// The file it is in, relative to the folder.
    pub file: String,
    /// Its `##` heading.
    pub title: String,
    pub text: String,
}

/// A passage that answers a question, with its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    #[serde(flatten)]
    pub passage: Passage,
    pub score: f64,
}

/// The knowledge folder, read and indexed.
pub struct Faq {
    passages: Vec<Passage>,
    terms: Vec<HashMap<String, usize>>,
    lengths: Vec<usize>,
    document_frequency: HashMap<String, usize>,
}

const K1: f64 = 1.2;
const B: f64 = 0.75;
/// A passage must hold at least this share of the question's weight (its
/// terms, each weighted by how rare it is) to count as an answer; below it
/// the agent says it does not know. Rare words the folder never uses
/// ("Mongolia") weigh the most, so an off-topic question finds nothing.
const MIN_COVERAGE: f64 = 0.25;

/// English words that say nothing about the topic; left out of every text.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "at", "be", "by", "can", "do", "does", "for", "how", "i", "if", "in", "is", "it", "me", "my", "of", "on", "or", "our",
    "the", "this", "that", "to", "we", "what", "when", "where", "will", "with", "you", "your",
];

/// Whether `c` is a Hangul syllable or letter.
fn hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// The terms of `text`. A Korean word gives its character bigrams (its
/// stem matches whatever particle follows it: 배송은, 배송이); any other
/// word is itself, lowercased, with a plural `s` dropped.
fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        let chars: Vec<char> = word.chars().collect();
        if chars.iter().any(|&c| hangul(c)) {
            if chars.len() == 1 {
                out.push(word);
            }
            out.extend(chars.windows(2).map(|pair| pair.iter().collect::<String>()));
        } else if STOPWORDS.contains(&word.as_str()) {
            continue;
        } else if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
            out.push(word[..word.len() - 1].to_string());
        } else {
            out.push(word);
        }
    }
    out
}

/// The `##` sections of a Markdown file (text before the first heading is
/// a passage titled by the file's `#` title, when it has words).
fn sections(file: &str, markdown: &str) -> Vec<Passage> {
    let mut passages = Vec::new();
    let mut title = String::new();
    let mut text = String::new();
    let mut flush = |title: &str, text: &mut String| {
        if !text.trim().is_empty() {
            passages.push(Passage { file: file.to_string(), title: title.to_string(), text: text.trim().to_string() });
        }
        text.clear();
    };
    for line in markdown.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            flush(&title, &mut text);
            title = heading.trim().to_string();
        } else if let Some(heading) = line.strip_prefix("# ").filter(|_| title.is_empty()) {
            title = heading.trim().to_string();
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    flush(&title, &mut text);
    passages
}

impl Faq {
    /// Reads every `.md` file in `dir` (not below it).
    pub fn load(dir: &Path) -> std::io::Result<Faq> {
        let mut files: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("md")))
            .collect();
        files.sort();
        let mut passages = Vec::new();
        for path in files {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            passages.extend(sections(&name, &std::fs::read_to_string(&path)?));
        }
        Ok(Faq::new(passages))
    }

    pub fn new(passages: Vec<Passage>) -> Faq {
        let mut document_frequency = HashMap::new();
        let (mut terms_of, mut lengths) = (Vec::new(), Vec::new());
        for p in &passages {
            let all = terms(&format!("{} {}", p.title, p.text));
            lengths.push(all.len());
            let mut counts: HashMap<String, usize> = HashMap::new();
            for t in all {
                *counts.entry(t).or_default() += 1;
            }
            for t in counts.keys() {
                *document_frequency.entry(t.clone()).or_default() += 1;
            }
            terms_of.push(counts);
        }
        Faq { passages, terms: terms_of, lengths, document_frequency }
    }

    pub fn len(&self) -> usize {
        self.passages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    /// The `k` passages that best answer `question`, best first; none when
    /// no passage holds enough of the question's terms.
    pub fn search(&self, question: &str, k: usize) -> Vec<Hit> {
        let query: HashSet<String> = terms(question).into_iter().collect();
        if query.is_empty() || self.passages.is_empty() {
            return Vec::new();
        }
        let n = self.passages.len() as f64;
        let average = self.lengths.iter().sum::<usize>() as f64 / n;
        let idf = |t: &String| {
            let df = self.document_frequency.get(t).copied().unwrap_or(0) as f64;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        };
        let weight: f64 = query.iter().map(idf).sum();
        let mut hits: Vec<Hit> = self
            .passages
            .iter()
            .enumerate()
            .filter_map(|(i, passage)| {
                let counts = &self.terms[i];
                let matched: f64 = query.iter().filter(|t| counts.contains_key(*t)).map(idf).sum();
                if matched < MIN_COVERAGE * weight {
                    return None;
                }
                let score = query
                    .iter()
                    .filter_map(|t| {
                        let f = *counts.get(t)? as f64;
                        Some(idf(t) * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * self.lengths[i] as f64 / average)))
                    })
                    .sum();
                Some(Hit { passage: passage.clone(), score })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(k);
        hits
    }
}

/// The sample shop's knowledge folder, in Korean and English.
pub const SAMPLE: &[(&str, &str)] = &[
    ("배송.md", include_str!("../../shop-sample/faq/배송.md")),
    ("반품과 환불.md", include_str!("../../shop-sample/faq/반품과 환불.md")),
    ("shipping.md", include_str!("../../shop-sample/faq/shipping.md")),
    ("returns.md", include_str!("../../shop-sample/faq/returns.md")),
];

/// Writes the sample knowledge folder into `dir` when it does not exist yet.
pub fn write_sample(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let staging = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    for (name, text) in SAMPLE {
        std::fs::write(staging.join(name), text)?;
    }
    std::fs::rename(&staging, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Faq {
        Faq::new(SAMPLE.iter().flat_map(|(name, text)| sections(name, text)).collect())
    }

    #[test]
    fn korean_and_english_questions_find_their_passage() {
        let faq = sample();
        assert!(faq.len() >= 8, "{} passages", faq.len());
        let top = |q: &str| faq.search(q, 3).first().map(|h| (h.passage.file.clone(), h.passage.title.clone()));
        assert_eq!(top("배송은 보통 며칠 걸려요?"), Some(("배송.md".into(), "배송은 며칠 걸리나요?".into())));
        assert_eq!(top("환불은 언제 들어와요?"), Some(("반품과 환불.md".into(), "환불은 언제 되나요?".into())));
        assert_eq!(top("불량품이 왔어요"), Some(("반품과 환불.md".into(), "상품이 불량이면 어떻게 하나요?".into())));
        assert_eq!(top("How many days does delivery take?"), Some(("shipping.md".into(), "How long does delivery take?".into())));
        assert_eq!(top("Can I return shoes I wore outside?"), Some(("returns.md".into(), "What can I return?".into())));
    }

    #[test]
    fn a_question_the_folder_does_not_answer_finds_nothing() {
        let faq = sample();
        assert_eq!(faq.search("What is the capital of Mongolia?", 3), vec![]);
        assert_eq!(faq.search("", 3), vec![]);
        assert_eq!(Faq::new(Vec::new()).search("배송", 3), vec![]);
    }

    #[test]
    fn sections_split_at_level_two_headings_and_keep_their_file() {
        let md = "# Title\nIntro words.\n## First\nOne.\n## Second\nTwo.\n";
        let passages = sections("a.md", md);
        assert_eq!(
            passages.iter().map(|p| (p.title.as_str(), p.text.as_str())).collect::<Vec<_>>(),
            [("Title", "Intro words."), ("First", "One."), ("Second", "Two.")]
        );
    }
}

//! What the user actually heard of a reply: the chunks played to the end, and
//! of the chunk playing when it stopped, the share of its text that matches the
//! share of its audio played, cut back to a word boundary.

/// A chunk of the reply and where its audio sits in the output's sample count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokenChunk {
    pub text: String,
    pub start: u64,
    pub end: u64,
}

/// The heard text, given how many output samples were played.
pub fn heard_text(chunks: &[SpokenChunk], played: u64) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in chunks {
        if played >= c.end {
            parts.push(c.text.clone());
        } else if played > c.start && c.end > c.start {
            let share = (played - c.start) as f64 / (c.end - c.start) as f64;
            let chars: Vec<char> = c.text.chars().collect();
            let cut = (chars.len() as f64 * share).floor() as usize;
            let prefix: String = chars[..cut].iter().collect();
            // Cut back to the last whole word: half a word was not understood.
            let prefix = match prefix.rfind(char::is_whitespace) {
                Some(i) if cut < chars.len() => prefix[..i].to_string(),
                _ if cut < chars.len() => String::new(),
                _ => prefix,
            };
            if !prefix.trim().is_empty() {
                parts.push(prefix.trim().to_string());
            }
            break;
        } else {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks() -> Vec<SpokenChunk> {
        vec![
            SpokenChunk { text: "네, 고객님,".into(), start: 0, end: 1000 },
            SpokenChunk { text: "주문하신 상품은 내일 도착합니다.".into(), start: 1000, end: 3000 },
        ]
    }

    #[test]
    fn whole_chunks_and_a_word_cut_share() {
        assert_eq!(heard_text(&chunks(), 0), "");
        assert_eq!(heard_text(&chunks(), 999), "네,");
        assert_eq!(heard_text(&chunks(), 1000), "네, 고객님,");
        assert_eq!(heard_text(&chunks(), 2000), "네, 고객님, 주문하신 상품은");
        assert_eq!(heard_text(&chunks(), 5000), "네, 고객님, 주문하신 상품은 내일 도착합니다.");
    }
}

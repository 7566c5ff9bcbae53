//! What the user actually heard of a reply: the lines played to the end, and
//! of the line playing when it stopped, the share of its text that matches
//! the share of its audio played, cut back to a word boundary. The answer is
//! a place in the reply text, so the history keeps exactly that prefix and
//! the window marks the cut exactly there. Asides take time on the speaker
//! but are not the reply.

/// A spoken line and where its audio sits in the output's sample count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokenLine {
    /// Where the line sits in the reply (characters); `None` for an aside.
    pub span: Option<(usize, usize)>,
    pub text: String,
    pub start: u64,
    pub end: u64,
}

/// How many characters of the reply were heard, given how many output
/// samples were played.
pub fn heard_chars(lines: &[SpokenLine], played: u64) -> usize {
    let mut heard = 0;
    for line in lines {
        if played < line.end && played <= line.start {
            break;
        }
        let Some((start, end)) = line.span else { continue };
        if played >= line.end {
            heard = end;
            continue;
        }
        // Part of this line was played: the same share of its text, back to the last whole word.
        let share = (played - line.start) as f64 / (line.end - line.start) as f64;
        let chars: Vec<char> = line.text.chars().collect();
        let cut = (chars.len() as f64 * share).floor() as usize;
        if let Some(space) = chars[..cut].iter().rposition(|c| c.is_whitespace()) {
            let word_end = chars[..space].iter().rposition(|c| !c.is_whitespace()).map_or(0, |i| i + 1);
            if word_end > 0 {
                heard = start + word_end;
            }
        }
        debug_assert!(heard <= end);
        break;
    }
    heard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<SpokenLine> {
        // The reply: "네, 고객님,  주문하신 상품은 내일 도착합니다." (two spaces between the lines)
        vec![
            SpokenLine { span: Some((0, 7)), text: "네, 고객님,".into(), start: 0, end: 1000 },
            SpokenLine { span: Some((9, 27)), text: "주문하신 상품은 내일 도착합니다.".into(), start: 1000, end: 3000 },
        ]
    }

    #[test]
    fn whole_lines_and_a_word_cut_share() {
        assert_eq!(heard_chars(&lines(), 0), 0);
        assert_eq!(heard_chars(&lines(), 999), 2, "네,");
        assert_eq!(heard_chars(&lines(), 1000), 7);
        assert_eq!(heard_chars(&lines(), 2000), 9 + 8, "주문하신 상품은");
        assert_eq!(heard_chars(&lines(), 5000), 27);
    }

    #[test]
    fn asides_take_time_but_are_not_the_reply() {
        let mut with_aside = vec![SpokenLine { span: None, text: "잠시만요.".into(), start: 0, end: 500 }];
        with_aside.extend(lines().into_iter().map(|l| SpokenLine { start: l.start + 500, end: l.end + 500, ..l }));
        assert_eq!(heard_chars(&with_aside, 400), 0);
        assert_eq!(heard_chars(&with_aside, 1500), 7);
    }
}

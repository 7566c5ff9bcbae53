use super::*;

fn split(text: &str) -> Vec<String> {
    split_all(text, SplitterConfig::default())
}

/// Feeds `text` in every two-piece split and in single characters, and checks
/// each gives the same chunks as feeding it whole.
fn assert_stream_invariant(text: &str) {
    let whole = split(text);
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    for &cut in &bounds {
        let mut s = ClauseSplitter::new(SplitterConfig::default());
        let mut got = s.push(&text[..cut]);
        got.extend(s.push(&text[cut..]));
        got.extend(s.finish());
        let got: Vec<String> = got.into_iter().map(|c| c.text).collect();
        assert_eq!(got, whole, "split at byte {cut} of {text:?}");
    }
    let mut s = ClauseSplitter::new(SplitterConfig::default());
    let mut got: Vec<String> = text.chars().flat_map(|c| s.push(&c.to_string())).map(|c| c.text).collect();
    got.extend(s.finish().into_iter().map(|c| c.text));
    assert_eq!(got, whole, "char by char: {text:?}");
}

#[test]
fn english_first_clause_then_sentences() {
    assert_eq!(
        split("Sure, thanks for reaching out. I heard: \"When will my order arrive?\". Your order is on its way. Anything else?"),
        ["Sure, thanks for reaching out.", "I heard: \"When will my order arrive?\".", "Your order is on its way.", "Anything else?"]
    );
    assert_eq!(
        split("Of course, I can help with that. It ships today, and it arrives tomorrow."),
        ["Of course,", "I can help with that.", "It ships today, and it arrives tomorrow."]
    );
}

#[test]
fn korean_first_clause_by_comma_or_connective_ending() {
    assert_eq!(
        split("네, 고객님, 문의 주셔서 감사합니다. 주문하신 상품은 내일 도착합니다. 더 궁금하신 점이 있으면 말씀해 주세요."),
        ["네, 고객님,", "문의 주셔서 감사합니다.", "주문하신 상품은 내일 도착합니다.", "더 궁금하신 점이 있으면 말씀해 주세요."]
    );
    assert_eq!(
        split("주문하신 상품은 오늘 출고되었고 내일 오후에 도착할 예정입니다. 감사합니다."),
        ["주문하신 상품은 오늘 출고되었고", "내일 오후에 도착할 예정입니다.", "감사합니다."]
    );
    assert_eq!(
        split("확인해 보니 배송이 조금 늦어지고 있는데 내일은 도착합니다."),
        ["확인해 보니 배송이 조금 늦어지고", "있는데 내일은 도착합니다."]
    );
}

#[test]
fn short_clauses_wait_for_more_words() {
    // One word before the comma is too short to say on its own.
    assert_eq!(split("Sure, that works. Bye."), ["Sure, that works.", "Bye."]);
    // A noun ending in 고 early in the sentence does not split it.
    assert_eq!(split("최고 품질입니다. 감사합니다."), ["최고 품질입니다.", "감사합니다."]);
    // A quotative -라고/-다고 is not a clause end.
    assert_eq!(split("고객님이 내일 온다고 말씀하셨어요. 네."), ["고객님이 내일 온다고 말씀하셨어요.", "네."]);
}

#[test]
fn cjk_sentence_marks_need_no_space() {
    assert_eq!(split("こんにちは。元気ですか？はい！"), ["こんにちは。", "元気ですか？", "はい！"]);
    assert_eq!(split("안녕하세요。반갑습니다"), ["안녕하세요。", "반갑습니다"]);
}

#[test]
fn numbers_abbreviations_urls_and_quotes_hold_together() {
    assert_eq!(split("It costs 3.5 dollars today. Really."), ["It costs 3.5 dollars today.", "Really."]);
    assert_eq!(split("Use a card, e.g. a Visa card. Done."), ["Use a card,", "e.g. a Visa card.", "Done."]);
    assert_eq!(split("Ask Dr. Kim at 3 p.m. today. Thanks."), ["Ask Dr. Kim at 3 p.m. today.", "Thanks."]);
    assert_eq!(split("Go to https://example.com/a.b?c=1 for details. Thanks."), ["Go to https://example.com/a.b?c=1 for details.", "Thanks."]);
    assert_eq!(split("He said \"Stop. Now. Please.\" and left. Ok."), ["He said \"Stop. Now. Please.\" and left.", "Ok."]);
    assert_eq!(split("고객님께서 「배송 언제 와요? 빨리요.」라고 하셨죠. 네."), ["고객님께서 「배송 언제 와요? 빨리요.」라고 하셨죠.", "네."]);
    assert_eq!(split("1. Open the app. 2. Sign in."), ["1. Open the app.", "2. Sign in."]);
}

#[test]
fn ellipses_and_newlines_end_chunks() {
    assert_eq!(split("Let me check… Yes, it shipped."), ["Let me check…", "Yes, it shipped."]);
    assert_eq!(split("Hmm... okay then. Sure."), ["Hmm...", "okay then.", "Sure."]);
    assert_eq!(split("First line\nSecond line"), ["First line", "Second line"]);
}

#[test]
fn a_run_on_sentence_is_cut_within_the_cap_at_its_best_boundary() {
    // A clause mark within the cap is the best cut.
    let long = format!("{}, and then {} ends here.", "word ".repeat(20).trim(), "more ".repeat(30).trim());
    let chunks = split(&format!("Hi there. {long}"));
    assert!(chunks[1].ends_with(','), "{chunks:?}");
    assert!(chunks.iter().all(|c| c.chars().count() <= 180), "{chunks:?}");
    // With no mark at all, a word boundary: never more than the cap.
    let chunks = split(&format!("Hi there. {}.", "word ".repeat(80).trim()));
    assert!(chunks.len() >= 3 && chunks.iter().all(|c| c.chars().count() <= 180), "{chunks:?}");
    assert_eq!(chunks.concat().replace(' ', ""), format!("Hithere.{}.", "word".repeat(80)));
}

#[test]
fn an_inch_mark_after_a_digit_is_not_a_quote() {
    assert_eq!(
        split("The screen is 6.1\" wide and very bright. It ships today. Anything else?"),
        ["The screen is 6.1\" wide and very bright.", "It ships today.", "Anything else?"]
    );
    assert_eq!(split("Her record was 9.58\" flat. Wow."), ["Her record was 9.58\" flat.", "Wow."]);
    // After a digit, a quote that is open still closes.
    assert_eq!(split("He said \"room 12\" twice. Ok."), ["He said \"room 12\" twice.", "Ok."]);
}

#[test]
fn a_stray_quote_never_holds_more_than_the_cap() {
    let reply = format!("He said \"wait. {}", "It ships today. ".repeat(30));
    let chunks = split(&reply);
    assert!(chunks.iter().all(|c| c.chars().count() <= 180), "{chunks:?}");
    // Cut at sentence ends inside the quote, not mid-sentence.
    assert!(chunks.iter().all(|c| c.ends_with('.')), "{chunks:?}");
    // A quote left open at the end of a line was a stray mark.
    assert_eq!(split("He said \"wait.\nIt ships today. Ok."), ["He said \"wait.", "It ships today.", "Ok."]);
}

#[test]
fn chunks_say_where_they_sit_in_the_reply() {
    let text = "  Sure, thanks.\n\nYour order  ships today. 네.";
    let mut s = ClauseSplitter::new(SplitterConfig::default());
    let mut chunks = s.push(text);
    chunks.extend(s.finish());
    let chars: Vec<char> = text.chars().collect();
    for c in &chunks {
        assert_eq!(chars[c.start..c.end].iter().collect::<String>(), c.text);
    }
    assert_eq!(chunks.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["Sure, thanks.", "Your order  ships today.", "네."]);
}

#[test]
fn nothing_is_lost_or_invented() {
    let text = "네, 고객님. \"3.5kg\" 상자는, e.g. 내일 와요! Is that OK? 1. Yes… 2. No。 끝";
    let joined: String = split(text).concat().chars().filter(|c| !c.is_whitespace()).collect();
    let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(joined, original);
    assert!(split("   ").is_empty());
    assert!(split("").is_empty());
}

#[test]
fn streaming_in_any_pieces_gives_the_same_chunks() {
    for text in [
        "Sure, thanks for reaching out. I heard: \"When will my order arrive?\". Your order is on its way.",
        "네, 고객님, 문의 주셔서 감사합니다. 주문하신 상품은 오늘 출고되었고 내일 도착해요.",
        "It costs 3.5 dollars, e.g. at 3 p.m. today. https://x.io/a.b?c=1 ok. 「인용. 문장」 끝. こんにちは。元気？",
    ] {
        assert_stream_invariant(text);
    }
}

#[test]
fn finish_resets_for_the_next_reply() {
    let mut s = ClauseSplitter::new(SplitterConfig::default());
    assert!(s.push("He said \"unfinished").is_empty());
    assert_eq!(s.finish().into_iter().map(|c| c.text).collect::<Vec<_>>(), ["He said \"unfinished"]);
    let next = s.push("Next one. More.");
    assert_eq!(next, [Chunk { text: "Next one.".into(), start: 0, end: 9 }]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Replies made of the pieces that matter to the splitter.
    fn reply() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("word"),
            Just("Sure"),
            Just("고객님"),
            Just("도착하고"),
            Just("있는데"),
            Just("3.5"),
            Just("6.1\""),
            Just("e.g."),
            Just("Dr."),
            Just("1."),
            Just(" "),
            Just(" "),
            Just(" "),
            Just("  "),
            Just("\n"),
            Just(","),
            Just(", "),
            Just(". "),
            Just("! "),
            Just("? "),
            Just("…"),
            Just("。"),
            Just("、"),
            Just("\""),
            Just("“"),
            Just("”"),
            Just("「"),
            Just("」"),
            Just(";"),
            Just(": "),
            Just("é"),
            Just("x"),
        ];
        proptest::collection::vec(piece, 0..120).prop_map(|p| p.concat())
    }

    fn chunks_of(text: &str, config: SplitterConfig, cuts: &[usize]) -> Vec<Chunk> {
        let mut s = ClauseSplitter::new(config);
        let mut out = Vec::new();
        let mut last = 0;
        for &cut in cuts {
            out.extend(s.push(&text[last..cut]));
            last = cut;
        }
        out.extend(s.push(&text[last..]));
        out.extend(s.finish());
        out
    }

    /// A character the splitter may always cut after, when the cap forces it.
    fn is_boundary(c: char) -> bool {
        c.is_whitespace() || matches!(c, '、' | '，' | '。' | '！' | '？')
    }

    proptest! {
        #[test]
        fn nothing_is_lost_added_or_moved(text in reply(), cap in 8usize..200) {
            let config = SplitterConfig { max_chunk_chars: cap, ..SplitterConfig::default() };
            let chunks = chunks_of(&text, config, &[]);
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            prop_assert_eq!(squeeze(&chunks.iter().map(|c| c.text.as_str()).collect::<String>()), squeeze(&text));
            let chars: Vec<char> = text.chars().collect();
            for c in &chunks {
                prop_assert_eq!(chars[c.start..c.end].iter().collect::<String>(), c.text.clone());
            }
        }

        #[test]
        fn no_chunk_outgrows_the_cap_while_it_has_a_boundary(text in reply(), cap in 8usize..200) {
            let config = SplitterConfig { max_chunk_chars: cap, ..SplitterConfig::default() };
            for chunk in chunks_of(&text, config, &[]) {
                let chars: Vec<char> = chunk.text.chars().collect();
                if chars.len() > cap {
                    prop_assert!(!chars[..chars.len() - 1].iter().copied().any(is_boundary), "{} chars > {cap}: {:?}", chars.len(), chunk.text);
                }
            }
        }

        #[test]
        fn any_split_into_deltas_gives_the_same_chunks(text in reply(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12)) {
            let config = SplitterConfig { max_chunk_chars: 40, ..SplitterConfig::default() };
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let mut cuts: Vec<usize> = cuts.iter().map(|ix| bounds[ix.index(bounds.len())]).collect();
            cuts.sort_unstable();
            prop_assert_eq!(chunks_of(&text, config, &cuts), chunks_of(&text, config, &[]));
        }
    }
}

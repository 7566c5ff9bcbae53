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
        assert_eq!(got, whole, "split at byte {cut} of {text:?}");
    }
    let mut s = ClauseSplitter::new(SplitterConfig::default());
    let mut got: Vec<String> = text.chars().flat_map(|c| s.push(&c.to_string())).collect();
    got.extend(s.finish());
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
fn a_run_on_sentence_is_split_at_a_clause_when_too_long() {
    let long = format!("{}, and then it ends here.", "word ".repeat(40).trim());
    let chunks = split(&format!("Hi there. {long}"));
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert!(chunks[1].ends_with(','));
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
    assert_eq!(s.finish().as_deref(), Some("He said \"unfinished"));
    assert_eq!(s.push("Next one. More."), vec!["Next one.".to_string()]);
}

//! Request types on a labelled set of Korean and English requests: asked of
//! a model with structured output (the testkit answers as scripted, over the
//! wire as OpenAI's spec shapes it), and read by the keyword rules, whose
//! accuracy is reported and held to a floor.

mod common;

use serde_json::{json, Value};
use sori_core::request_type::{by_model, by_rules, RequestType};
use sori_testkit::{Endpoint, ServerConfig, TestServer};

use RequestType::{Complaint, GeneralInquiry, OrderStatus, Other};

/// What customers say, and what they want.
const LABELLED: [(&str, RequestType); 24] = [
    ("주문한 상품이 언제 도착하나요?", OrderStatus),
    ("A-1001 주문 배송 조회 좀 해 주세요.", OrderStatus),
    ("택배가 지금 어디쯤 왔어요?", OrderStatus),
    ("Where is my order?", OrderStatus),
    ("When will my package arrive?", OrderStatus),
    ("Can you check the tracking for A-1003?", OrderStatus),
    ("환불은 보통 얼마나 걸리나요?", GeneralInquiry),
    ("교환하려면 어떻게 해야 해요?", GeneralInquiry),
    ("골드 회원 혜택이 뭐예요?", GeneralInquiry),
    ("What is your return policy?", GeneralInquiry),
    ("How long does a refund take?", GeneralInquiry),
    ("Do you ship to Jeju island?", GeneralInquiry),
    ("상품이 파손된 채로 왔어요. 너무 화가 나요.", Complaint),
    ("배송이 너무 늦어요, 정말 실망이에요.", Complaint),
    ("주문한 것과 다른 상품이 왔어요.", Complaint),
    ("My earphones arrived broken.", Complaint),
    ("This is unacceptable, I've waited two weeks.", Complaint),
    ("I got the wrong item in my order.", Complaint),
    ("안녕하세요!", Other),
    ("고마워요, 좋은 하루 보내세요.", Other),
    ("Hello there.", Other),
    ("Thanks, that's all.", Other),
    ("오늘 날씨 어때요?", Other),
    ("Can you tell me a joke?", Other),
];

#[tokio::test]
async fn a_model_with_structured_output_classifies_every_labelled_request() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    for (text, kind) in LABELLED {
        server.add_structured_reply(text, json!({ "request_type": kind.name() }));
    }
    let chat = common::providers(&server).chat;
    for (text, kind) in LABELLED {
        assert_eq!(by_model(chat.clone(), "gpt-4o-mini".into(), text.into()).await, Some(kind), "{text}");
    }
    let asked: Vec<Value> = server.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat).map(|r| r.body).collect();
    assert_eq!(asked.len(), LABELLED.len());
    let format = &asked[0]["response_format"];
    assert_eq!((format["type"].as_str(), format["json_schema"]["strict"].as_bool()), (Some("json_schema"), Some(true)));
    let kinds = &format["json_schema"]["schema"]["properties"]["request_type"]["enum"];
    assert_eq!(kinds, &json!(["order_status", "general_inquiry", "complaint", "other"]));
    // A reply that is not the schema's JSON is no answer (the rules decide then).
    server.add_structured_reply("Hello there.", json!({ "request_type": "refund" }));
    assert_eq!(by_model(chat, "gpt-4o-mini".into(), "Hello there.".into()).await, None);
}

#[test]
fn the_keyword_rules_get_most_of_the_labelled_set_right() {
    let misses: Vec<_> = LABELLED.iter().filter(|(text, kind)| by_rules(text) != *kind).map(|(text, kind)| (*text, *kind, by_rules(text))).collect();
    let accuracy = 1.0 - misses.len() as f64 / LABELLED.len() as f64;
    println!("keyword rules: {}/{} right ({:.0} %); misses: {misses:?}", LABELLED.len() - misses.len(), LABELLED.len(), accuracy * 100.0);
    for kind in RequestType::ALL {
        let right = LABELLED.iter().filter(|(t, k)| *k == kind && by_rules(t) == kind).count();
        println!("  {}: {right}/{}", kind.name(), LABELLED.iter().filter(|(_, k)| *k == kind).count());
    }
    assert!(accuracy >= 0.8, "the rules fell to {:.0} %: {misses:?}", accuracy * 100.0);
}

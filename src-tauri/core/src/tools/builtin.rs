//! The shop's built-in tools: `lookup_order`, `file_complaint` and
//! `request_callback` over the shop's SQLite file, and `search_faq` over the
//! knowledge folder. Each
//! answers in compact JSON the model reads; a miss is an answer too
//! (`{"found":false}`), so the model says it does not know instead of
//! making something up.

use super::faq::Faq;
use super::shop::Shop;
use super::{Tool, ToolError};
use crate::provider::ToolSpec;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn text_arg<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args[key].as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// Looks an order up by its number, or lists the customer's latest orders.
pub struct LookupOrder {
    pub shop: Arc<Shop>,
    /// The customer the window or `--customer` chose, for "my orders".
    pub customer: Option<String>,
}

#[async_trait]
impl Tool for LookupOrder {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "lookup_order".into(),
            description: "Looks up an order: its status, items, carrier, tracking number and expected delivery date. \
                Give the order number when the customer says one; without it, the customer's latest orders are listed."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "order_number": { "type": "string", "description": "The order number as the customer said it, e.g. A-1001." },
                    "customer_id": { "type": "string", "description": "The customer's id, when no order number is known." }
                }
            }),
        }
    }

    async fn call(&self, args: Value, _cancel: CancellationToken) -> Result<String, ToolError> {
        let fail = |e: super::shop::ShopError| ToolError::new(e.to_string());
        if let Some(number) = text_arg(&args, "order_number") {
            return Ok(match self.shop.order(number).map_err(fail)? {
                Some(order) => json!({ "found": true, "order": order }),
                None => json!({ "found": false, "order_number": number }),
            }
            .to_string());
        }
        let Some(customer) = text_arg(&args, "customer_id").or(self.customer.as_deref()) else {
            return Err(ToolError::new("No order number and no customer: ask the customer for their order number."));
        };
        let orders = self.shop.recent_orders(customer, 3).map_err(fail)?;
        Ok(json!({ "found": !orders.is_empty(), "recent_orders": orders }).to_string())
    }
}

/// Finds the answer in the knowledge folder.
pub struct SearchFaq {
    pub faq: Arc<Faq>,
}

#[async_trait]
impl Tool for SearchFaq {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "search_faq".into(),
            description: "Searches the shop's help pages (shipping, returns, refunds, exchanges) for the answer to the customer's question.".into(),
            parameters: json!({
                "type": "object",
                "properties": { "question": { "type": "string", "description": "The customer's question, in their words." } },
                "required": ["question"]
            }),
        }
    }

    async fn call(&self, args: Value, _cancel: CancellationToken) -> Result<String, ToolError> {
        let question = text_arg(&args, "question").ok_or_else(|| ToolError::new("The question is missing."))?;
        let hits = self.faq.search(question, 2);
        if hits.is_empty() {
            return Ok(json!({ "found": false }).to_string());
        }
        let answers: Vec<Value> = hits.iter().map(|h| json!({ "file": h.passage.file, "title": h.passage.title, "text": h.passage.text })).collect();
        Ok(json!({ "found": true, "answers": answers }).to_string())
    }
}

/// What a ticket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Complaint,
    Callback,
}

/// Records a complaint, or a request for a person to call back. It changes
/// the shop, so the user confirms it first.
pub struct FileTicket {
    pub shop: Arc<Shop>,
    pub customer: Option<String>,
    pub kind: TicketKind,
}

#[async_trait]
impl Tool for FileTicket {
    fn spec(&self) -> ToolSpec {
        let (name, description, summary) = match self.kind {
            TicketKind::Complaint => (
                "file_complaint",
                "Records the customer's complaint for the shop's staff and gives its ticket number.",
                "The complaint, in one sentence.",
            ),
            TicketKind::Callback => (
                "request_callback",
                "Asks a person from the shop to call the customer back, and gives the request's ticket number.",
                "What the call is about and when suits the customer, in one sentence.",
            ),
        };
        ToolSpec {
            name: name.into(),
            description: format!("{description} The customer is asked to confirm before it is recorded."),
            parameters: json!({
                "type": "object",
                "properties": { "summary": { "type": "string", "description": summary } },
                "required": ["summary"]
            }),
        }
    }

    fn side_effects(&self) -> bool {
        true
    }

    async fn call(&self, args: Value, _cancel: CancellationToken) -> Result<String, ToolError> {
        let kind = match self.kind {
            TicketKind::Complaint => "complaint",
            TicketKind::Callback => "callback",
        };
        let summary = text_arg(&args, "summary").ok_or_else(|| ToolError::new("The summary is missing."))?;
        let number = self.shop.file_ticket(kind, summary, self.customer.as_deref()).map_err(|e| ToolError::new(e.to_string()))?;
        Ok(json!({ "ticket": number, "kind": kind, "recorded": true }).to_string())
    }
}

/// The shop's tools over its database and help pages.
pub fn shop_tools(shop: Arc<Shop>, faq: Arc<Faq>, customer: Option<&str>) -> Vec<Arc<dyn Tool>> {
    let customer = customer.map(str::to_string);
    vec![
        Arc::new(LookupOrder { shop: shop.clone(), customer: customer.clone() }),
        Arc::new(SearchFaq { faq }),
        Arc::new(FileTicket { shop: shop.clone(), customer: customer.clone(), kind: TicketKind::Complaint }),
        Arc::new(FileTicket { shop, customer, kind: TicketKind::Callback }),
    ]
}

/// The shop's tools over the sample shop and help pages, made in the folder
/// `dir`, serving `customer`, as a list more tools can join.
pub fn sample_shop_tools(dir: &std::path::Path, customer: Option<&str>) -> Result<Vec<Arc<dyn Tool>>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let shop = Arc::new(Shop::open_sample(&dir.join("shop.sqlite")).map_err(|e| e.to_string())?);
    super::faq::write_sample(&dir.join("faq")).map_err(|e| e.to_string())?;
    let faq = Arc::new(Faq::load(&dir.join("faq")).map_err(|e| e.to_string())?);
    Ok(shop_tools(shop, faq, customer))
}

/// The same, as a registry: for trying the agent, and for tests.
pub fn sample_tools(dir: &std::path::Path, customer: Option<&str>) -> Result<super::Tools, String> {
    Ok(super::Tools::new(sample_shop_tools(dir, customer)?))
}

#[cfg(test)]
mod tests {
    use super::super::Tools;
    use super::*;
    use crate::provider::ToolCall;

    fn tools(name: &str) -> Tools {
        let dir = std::env::temp_dir().join(format!("sori-builtin-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        sample_tools(&dir, Some("C-001")).unwrap()
    }

    async fn run(tools: &Tools, name: &str, args: Value) -> (Value, Option<String>) {
        let call = ToolCall { id: "call_1".into(), name: name.into(), arguments: args.to_string() };
        let run = tools.run(&call, &CancellationToken::new()).await;
        (serde_json::from_str(&run.result).unwrap(), run.error)
    }

    #[tokio::test]
    async fn the_shop_answers_about_real_orders_and_says_when_it_has_none() {
        let tools = tools("orders");
        let (order, _) = run(&tools, "lookup_order", json!({ "order_number": "A-1001" })).await;
        assert_eq!((order["found"].as_bool(), order["order"]["expected_on"].as_str()), (Some(true), Some("2026-12-08")));
        let (missing, _) = run(&tools, "lookup_order", json!({ "order_number": "Z-9" })).await;
        assert_eq!(missing, json!({ "found": false, "order_number": "Z-9" }));
        // "My order": the chosen customer's latest ones.
        let (mine, _) = run(&tools, "lookup_order", json!({})).await;
        assert_eq!(mine["recent_orders"][0]["number"], "A-1001");
        let specs: Vec<_> = tools.specs().into_iter().map(|s| s.name).collect();
        assert_eq!(specs, ["lookup_order", "search_faq", "file_complaint", "request_callback"]);
        assert!(tools.needs_confirmation("file_complaint") && tools.needs_confirmation("request_callback"));
        assert!(!tools.needs_confirmation("lookup_order") && !tools.needs_confirmation("nope"));
    }

    #[tokio::test]
    async fn the_faq_answers_from_its_files_and_a_ticket_gets_a_number() {
        let tools = tools("faq");
        let (answer, _) = run(&tools, "search_faq", json!({ "question": "환불은 언제 되나요?" })).await;
        assert_eq!((answer["found"].as_bool(), answer["answers"][0]["title"].as_str()), (Some(true), Some("환불은 언제 되나요?")));
        let (nothing, _) = run(&tools, "search_faq", json!({ "question": "Who won the World Cup?" })).await;
        assert_eq!(nothing, json!({ "found": false }));
        let (ticket, _) = run(&tools, "file_complaint", json!({ "summary": "Broken earphones." })).await;
        assert_eq!((ticket["ticket"].as_i64(), ticket["kind"].as_str()), (Some(1), Some("complaint")));
        let (ticket, _) = run(&tools, "request_callback", json!({ "summary": "Call me after 6." })).await;
        assert_eq!((ticket["ticket"].as_i64(), ticket["kind"].as_str()), (Some(2), Some("callback")));
        let (_, error) = run(&tools, "file_complaint", json!({ "summary": " " })).await;
        assert_eq!(error.as_deref(), Some("The summary is missing."));
    }
}

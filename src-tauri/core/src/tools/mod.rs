//! Tools the agent may call: a small [`Tool`] trait, and [`Tools`], the
//! registry a turn runs calls through. Whatever goes wrong with a call (a
//! tool that does not exist, arguments that are not JSON, a failure, a
//! timeout) becomes a result the model can read and apologise for, never a
//! dead turn; a cancelled turn cancels its running tools.
//!
//! Built-in tools for a shop live beside it: [`shop`] (orders and tickets
//! in SQLite) and [`faq`] (answers from a folder of Markdown files); [`mcp`]
//! brings the tools of Model Context Protocol servers; [`confirm`] holds a
//! call that changes something until the user says yes.

pub mod builtin;
pub mod confirm;
pub mod faq;
pub mod mcp;
pub mod shop;

use crate::provider::{ToolCall, ToolSpec};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
// Tokio's clock, so tests can pause time.
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Why a tool could not do what it was asked, in words the model can pass on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        ToolError(message.into())
    }
}

/// Something the agent can do for the customer.
#[async_trait]
pub trait Tool: Send + Sync {
    /// Its name, what it does and its arguments' JSON Schema, as the model sees them.
    fn spec(&self) -> ToolSpec;

    /// Whether it changes something (a ticket filed): such tools are
    /// confirmed by the user first.
    fn side_effects(&self) -> bool {
        false
    }

    /// Runs with `args` (a JSON object, already parsed); returns compact
    /// JSON text for the model. Should stop soon after `cancel` fires.
    async fn call(&self, args: Value, cancel: CancellationToken) -> Result<String, ToolError>;
}

/// Tools that come and go (an MCP server's, once it has started).
#[async_trait]
pub trait ToolSource: Send + Sync {
    /// The tools it offers now.
    fn tools(&self) -> Vec<Arc<dyn Tool>>;

    /// Waits (at most `most`) until the tools it is still fetching are in.
    async fn ready(&self, most: Duration);
}

/// What one call did, for the model and for the inspector.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    pub call: ToolCall,
    /// What goes back to the model as the tool message.
    pub result: String,
    /// The failure, when the call failed (its words are in `result` too).
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// The tools a conversation offers.
#[derive(Clone, Default)]
pub struct Tools {
    tools: Vec<Arc<dyn Tool>>,
    sources: Vec<Arc<dyn ToolSource>>,
    timeout: Option<Duration>,
}

/// A call that takes longer is stopped and reported as timed out.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Tools {
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> Self {
        Tools { tools, sources: Vec::new(), timeout: None }
    }

    /// Adds the tools `source` offers, whenever it offers them.
    pub fn with_source(mut self, source: Arc<dyn ToolSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Waits (at most `most`) for the sources still fetching their tools.
    pub async fn ready(&self, most: Duration) {
        futures_util::future::join_all(self.sources.iter().map(|s| s.ready(most))).await;
    }

    /// The built-in tools, then the sources' (a name taken is not offered twice).
    fn all(&self) -> Vec<Arc<dyn Tool>> {
        let mut all = self.tools.clone();
        for tool in self.sources.iter().flat_map(|s| s.tools()) {
            let name = tool.spec().name;
            if !all.iter().any(|t| t.spec().name == name) {
                all.push(tool);
            }
        }
        all
    }

    /// Stops calls after `timeout` instead of 10 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No tools, and none to come.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty() && self.sources.is_empty()
    }

    /// Every tool's spec, for the chat request.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.all().iter().map(|t| t.spec()).collect()
    }

    /// Whether a tool of that name is offered.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Whether a call to `name` changes something, so the user confirms it first.
    pub fn needs_confirmation(&self, name: &str) -> bool {
        self.find(name).is_some_and(|t| t.side_effects())
    }

    fn find(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.all().into_iter().find(|t| t.spec().name == name)
    }

    /// Runs `call`; never fails, whatever the model asked.
    pub async fn run(&self, call: &ToolCall, cancel: &CancellationToken) -> ToolRun {
        let started = Instant::now();
        let outcome = match (self.find(&call.name), parse_args(&call.arguments)) {
            (None, _) => Err(ToolError::new(format!("There is no tool called {:?}.", call.name))),
            (Some(_), Err(e)) => Err(e),
            (Some(tool), Ok(args)) => {
                let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
                let stop = cancel.child_token();
                // The turn's cancel first: a tool that stops because of it
                // still reports the cancel, not its own words.
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => Err(ToolError::new("Cancelled: the customer spoke.")),
                    _ = tokio::time::sleep(timeout) => {
                        stop.cancel();
                        Err(ToolError::new(format!("{} took longer than {} s and was stopped.", call.name, timeout.as_secs_f32())))
                    }
                    r = tool.call(args, stop.clone()) => r,
                }
            }
        };
        let (result, error) = match outcome {
            Ok(result) => (result, None),
            Err(e) => (serde_json::json!({ "error": e.0 }).to_string(), Some(e.0)),
        };
        ToolRun { call: call.clone(), result, error, elapsed: started.elapsed() }
    }

    /// Runs `calls` at once (the model may ask for several in one reply),
    /// their runs in the order asked.
    pub async fn run_all(&self, calls: &[ToolCall], cancel: &CancellationToken) -> Vec<ToolRun> {
        futures_util::future::join_all(calls.iter().map(|c| self.run(c, cancel))).await
    }
}

/// Arguments as the model wrote them: a JSON object (empty text is no arguments).
fn parse_args(text: &str) -> Result<Value, ToolError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ToolError::new("The arguments must be a JSON object.")),
        Err(e) => Err(ToolError::new(format!("The arguments are not valid JSON ({e})."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoes its `text` argument after `delay`.
    struct Echo {
        delay: Duration,
    }

    #[async_trait]
    impl Tool for Echo {
        fn spec(&self) -> ToolSpec {
            ToolSpec {
                name: "echo".into(),
                description: "Says the text back.".into(),
                parameters: serde_json::json!({ "type": "object", "properties": { "text": { "type": "string" } }, "required": ["text"] }),
            }
        }

        async fn call(&self, args: Value, cancel: CancellationToken) -> Result<String, ToolError> {
            tokio::select! {
                _ = tokio::time::sleep(self.delay) => {}
                _ = cancel.cancelled() => return Err(ToolError::new("stopped")),
            }
            args["text"].as_str().map(|t| t.to_string()).ok_or_else(|| ToolError::new("text is missing"))
        }
    }

    fn call(name: &str, arguments: &str) -> ToolCall {
        ToolCall { id: format!("call_{name}"), name: name.into(), arguments: arguments.into() }
    }

    #[tokio::test(start_paused = true)]
    async fn every_way_a_call_can_go_wrong_is_a_result_for_the_model() {
        let tools = Tools::new(vec![Arc::new(Echo { delay: Duration::from_millis(10) })]).with_timeout(Duration::from_secs(1));
        let cancel = CancellationToken::new();
        let runs = tools
            .run_all(
                &[call("echo", r#"{"text":"hi"}"#), call("refund", "{}"), call("echo", "{not json"), call("echo", "[1]"), call("echo", "{}")],
                &cancel,
            )
            .await;
        assert_eq!(runs[0].result, "hi");
        assert_eq!(runs[0].error, None);
        let errors: Vec<_> = runs[1..].iter().map(|r| r.error.clone().unwrap()).collect();
        assert_eq!(errors[0], r#"There is no tool called "refund"."#);
        assert!(errors[1].starts_with("The arguments are not valid JSON"), "{}", errors[1]);
        assert_eq!(errors[2], "The arguments must be a JSON object.");
        assert_eq!(errors[3], "text is missing");
        // The model reads the error as JSON.
        let result: Value = serde_json::from_str(&runs[1].result).unwrap();
        assert_eq!(result["error"], errors[0]);

        let slow = Tools::new(vec![Arc::new(Echo { delay: Duration::from_secs(30) })]).with_timeout(Duration::from_secs(2));
        let run = slow.run(&call("echo", r#"{"text":"hi"}"#), &cancel).await;
        assert_eq!(run.error.as_deref(), Some("echo took longer than 2 s and was stopped."));
        assert_eq!(run.elapsed, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_turn_stops_its_running_tools() {
        let tools = Tools::new(vec![Arc::new(Echo { delay: Duration::from_secs(5) })]);
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            stop.cancel();
        });
        let run = tools.run(&call("echo", r#"{"text":"hi"}"#), &cancel).await;
        assert_eq!(run.error.as_deref(), Some("Cancelled: the customer spoke."));
        assert_eq!(run.elapsed, Duration::from_millis(300));
    }
}

//! A new Realtime session made ready for Sori: open the socket, wait for
//! `session.created`, ask for Sori's session (instructions, voice,
//! transcription, turn detection, the tools once their servers are up),
//! give it the conversation so far as text items, and wait for
//! `session.updated`.

use super::connection::{Connection, Incoming};
use super::events::{ClientEvent, FunctionTool, Item, ServerEvent, SessionConfig};
use super::failures::server_error;
use super::link::{Context, LinkSetup};
use crate::provider::{ChatMessage, ErrorKind, ProviderError, Role};
use std::time::Duration;
use tokio::time::Instant;

/// The longest a new session may take to be ready.
const SETUP_WAIT: Duration = Duration::from_secs(10);
/// Turns of the conversation a new session is given as context.
pub const REPLAY_TURNS: usize = 20;
/// The longest a new session waits for tool servers that are still starting.
const TOOLS_WAIT: Duration = Duration::from_secs(10);

/// Opens and configures a session: `session.created`, our `session.update`,
/// the conversation as items, `session.updated`. Returns the connection and
/// the session's `expires_at`.
pub async fn connect(setup: &LinkSetup, context: &Context) -> Result<(Connection, Option<u64>), ProviderError> {
    let mut conn = Connection::open(&setup.base_url, setup.key.as_ref(), &setup.model).await?;
    let created = next_setup_event(&mut conn, |e| matches!(e, ServerEvent::SessionCreated { .. })).await?;
    let expires_at = match created {
        ServerEvent::SessionCreated { session } => session["expires_at"].as_u64(),
        _ => None,
    };
    let session = configured(setup, context).await;
    conn.send(|event_id| ClientEvent::SessionUpdate { event_id, session: Box::new(session) });
    for item in replay(&context.turns) {
        conn.send(|event_id| ClientEvent::CreateItem { event_id, item });
    }
    next_setup_event(&mut conn, |e| matches!(e, ServerEvent::SessionUpdated { .. })).await?;
    Ok((conn, expires_at))
}

/// The session Sori asks for: the setup's, with the context's instructions
/// and the tools as they are now.
pub async fn configured(setup: &LinkSetup, context: &Context) -> SessionConfig {
    setup.tools.ready(TOOLS_WAIT).await;
    let mut session = setup.session.clone();
    session.instructions = context.instructions.clone();
    session.tools = setup.tools.specs().into_iter().map(|t| FunctionTool::new(t.name, t.description, t.parameters)).collect();
    session
}

/// The last turns as text items: the user's words and the answers as heard;
/// tool calls are left out (their results are in the answers).
pub fn replay(turns: &[Vec<ChatMessage>]) -> Vec<Item> {
    let from = turns.len().saturating_sub(REPLAY_TURNS);
    turns[from..]
        .iter()
        .flatten()
        .filter(|m| m.tool_calls.is_empty() && !m.content.trim().is_empty())
        .filter_map(|m| match m.role {
            Role::User => Some(Item::user_text(m.content.clone())),
            Role::Assistant => Some(Item::assistant_text(m.content.clone())),
            _ => None,
        })
        .collect()
}

/// Waits for the event `wanted` while a session is set up; an error event
/// or a close on the way is the setup's failure.
async fn next_setup_event(conn: &mut Connection, wanted: impl Fn(&ServerEvent) -> bool) -> Result<ServerEvent, ProviderError> {
    let deadline = Instant::now() + SETUP_WAIT;
    loop {
        let next = tokio::time::timeout_at(deadline, conn.next()).await;
        match next {
            Err(_) => return Err(ProviderError::new(ErrorKind::Timeout, "The Realtime server did not set the session up within 10 s.")),
            Ok(Some(Incoming::Event(ServerEvent::Error { error }))) => return Err(server_error(&error)),
            Ok(Some(Incoming::Event(e))) if wanted(&e) => return Ok(e),
            Ok(Some(Incoming::Event(_) | Incoming::Malformed(_))) => continue,
            Ok(Some(Incoming::Closed { code: Some(4000), reason })) => {
                return Err(ProviderError::new(ErrorKind::BadRequest, format!("The Realtime server refused this interface ({reason}).")))
            }
            Ok(Some(Incoming::Closed { reason, .. })) => {
                return Err(ProviderError::new(ErrorKind::Network, format!("The Realtime server closed the connection ({reason}).")))
            }
            Ok(None) => return Err(ProviderError::new(ErrorKind::Network, "The Realtime server closed the connection.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_is_the_words_as_heard_without_tool_calls() {
        use crate::provider::ToolCall;
        let call = ToolCall { id: "c1".into(), name: "lookup_order".into(), arguments: "{}".into() };
        let turns = vec![vec![
            ChatMessage::new(Role::User, "주문 어디쯤이에요?"),
            ChatMessage::assistant_calling("", vec![call]),
            ChatMessage::tool_result("c1", "{\"status\":\"shipped\"}"),
            ChatMessage::new(Role::Assistant, "내일 도착해요."),
        ]];
        assert_eq!(replay(&turns), vec![Item::user_text("주문 어디쯤이에요?"), Item::assistant_text("내일 도착해요.")]);
        let many: Vec<Vec<ChatMessage>> = (0..30).map(|i| vec![ChatMessage::new(Role::User, format!("q{i}"))]).collect();
        let items = replay(&many);
        assert_eq!((items.len(), items[0].clone()), (REPLAY_TURNS, Item::user_text("q10")));
    }
}

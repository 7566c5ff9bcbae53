//! One question answered for a client: the conversation found (or begun, with
//! the customer's context in its persona), the engine's turn run with its
//! audio and events flowing into one channel, and the finished turn kept in
//! the conversation. Turns on one conversation take their turn; turns on
//! different ones run side by side. A client that goes away, or a turn that
//! runs past the limit, cancels the turn.

use super::errors::ApiError;
use super::output::ChannelOutput;
use super::store::StoredConversation;
use super::State;
use axum::http::StatusCode;
use sori_core::audio::Pcm;
use sori_core::event::Event;
use sori_core::turn::{run_turn, Emitter, TurnInput, TurnOutcome};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a running turn sends, in order; `Done` is always last.
pub enum Item {
    Event(Event),
    Audio(Pcm),
    Done(Box<Done>),
}

pub struct Done {
    pub outcome: TurnOutcome,
    /// Why the turn could not be kept (the store failed), if it could not.
    pub not_kept: Option<String>,
    /// The turn ran past the server's limit and was stopped.
    pub timed_out: bool,
}

/// A question as a request brings it.
pub struct Question {
    pub input: TurnInput,
    pub conversation_id: Option<String>,
    /// The customer's id in the shop, for a new conversation.
    pub customer: Option<String>,
    /// `ko`, `en` or `auto`, over the server's setting.
    pub language: Option<String>,
}

pub struct Running {
    pub conversation_id: String,
    pub items: mpsc::UnboundedReceiver<Item>,
    pub cancel: CancellationToken,
}

/// Finds or begins the conversation, then starts the turn. Errors come
/// before anything runs: an unknown conversation, an unknown customer, a
/// store that cannot be read.
pub async fn start(state: &Arc<State>, question: Question, paced: bool) -> Result<Running, ApiError> {
    let mut record = match &question.conversation_id {
        Some(id) => {
            state.store.get(id).await.map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()))?.ok_or_else(
                || ApiError::not_found(format!("There is no conversation {id} (it may have expired): leave out conversation_id to begin a new one.")),
            )?
        }
        None => begin(state, question.customer.clone()).await?,
    };
    let lock = state.conversation_lock(&record.id);
    let (items, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let mut settings = state.turn_settings.clone();
    match question.language.as_deref() {
        Some("auto") => settings.language = None,
        Some(l) => settings.language = Some(l.to_string()),
        None => {}
    }
    let (state, stop, conversation_id) = (state.clone(), cancel.clone(), record.id.clone());
    tokio::spawn(async move {
        let _turn = lock.lock_owned().await;
        // A turn begun before it had waited for the one ahead sees its result.
        if question.conversation_id.is_some() {
            if let Ok(Some(newer)) = state.store.get(&record.id).await {
                record = newer;
            }
        }
        let mut conversation = record.conversation();
        let (events, mut events_rx) = mpsc::unbounded_channel();
        let forward = {
            let items = items.clone();
            tokio::spawn(async move {
                while let Some(e) = events_rx.recv().await {
                    let _ = items.send(Item::Event(e));
                }
            })
        };
        // The client going away stops the turn.
        let gone = {
            let (items, stop) = (items.clone(), stop.clone());
            tokio::spawn(async move {
                items.closed().await;
                stop.cancel();
            })
        };
        let output = Arc::new(ChannelOutput::new(items.clone(), paced));
        let limit = state.limits.turn;
        let providers = providers_for(&state, record.customer.as_deref()).await;
        let turn = run_turn(question.input, &conversation, &providers, &settings, output, Emitter::new(1, events), stop.clone());
        // Past the limit the turn is cancelled and ends as interrupted.
        let timer = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                stop.cancel();
                true
            })
        };
        let outcome = turn.await;
        timer.abort();
        let timed_out = matches!(timer.await, Ok(true));
        let _ = forward.await;
        gone.abort();
        let mut not_kept = None;
        let messages = outcome.messages();
        if !messages.is_empty() {
            conversation.record_turn(messages);
            record.keep(&conversation);
            if let Err(e) = state.store.put(&record).await {
                tracing::warn!(conversation = %record.id, error = %e, "a finished turn could not be kept");
                not_kept = Some(e.to_string());
            }
        }
        let _ = items.send(Item::Done(Box::new(Done { outcome, not_kept, timed_out })));
    });
    Ok(Running { conversation_id, items: rx, cancel })
}

/// The providers for a conversation with `customer`: the agent's tools then
/// know whose orders "my orders" are and whose tickets they file. Made once
/// per customer (opening the shop is blocking work) and kept; the MCP
/// servers are shared by all.
async fn providers_for(state: &Arc<State>, customer: Option<&str>) -> sori_core::provider::Providers {
    let Some(customer) = customer.filter(|_| state.settings.agent_tools) else { return state.providers.clone() };
    if let Some(p) = state.customer_providers.lock().unwrap_or_else(|e| e.into_inner()).get(customer) {
        return p.clone();
    }
    let mut settings = state.settings.clone();
    settings.customer = Some(customer.to_string());
    let made = tokio::task::spawn_blocking(move || sori_core::app::agent::tools(&settings, &sori_core::secrets::Keys::open()).0).await;
    let Ok(tools) = made else { return state.providers.clone() };
    let providers = state.providers.clone().with_tools(tools);
    let mut cache = state.customer_providers.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= 1000 {
        cache.clear();
    }
    cache.insert(customer.to_string(), providers.clone());
    providers
}

/// Begins a conversation and keeps it at once (the WebSocket tells its id
/// before any turn).
pub async fn begin_stored(state: &Arc<State>, customer: Option<String>) -> Result<String, ApiError> {
    let record = begin(state, customer).await?;
    state.store.put(&record).await.map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()))?;
    Ok(record.id)
}

/// A new conversation, with the customer's profile and orders in its persona.
async fn begin(state: &Arc<State>, customer: Option<String>) -> Result<StoredConversation, ApiError> {
    let mut settings = state.settings.clone();
    settings.customer = customer.clone();
    let persona = tokio::task::spawn_blocking(move || -> Result<String, ApiError> {
        if let Some(id) = settings.customer.as_deref() {
            let known = sori_core::app::agent::customers(&settings).map(|list| list.iter().any(|c| c.id == id));
            if !known.unwrap_or(false) {
                return Err(ApiError::bad_request(
                    "unknown_customer",
                    format!("The shop has no customer {id}: leave out customer, or give an id the shop knows."),
                ));
            }
        }
        Ok(sori_core::app::agent::instructions(&settings))
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The conversation could not be begun."))??;
    Ok(StoredConversation::new(persona, customer))
}

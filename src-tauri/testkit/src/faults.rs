//! Faults on demand: what the next request(s) to an endpoint should suffer, so
//! tests can show how Sori behaves when a provider misbehaves.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// The endpoints a fault can be aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Transcriptions,
    Chat,
    Speech,
    Models,
    /// The Realtime WebSocket: status faults refuse the handshake; the
    /// others strike the next response (or, `SessionLimit`, the session).
    Realtime,
    /// Google Speech-to-Text `POST /v1/speech:recognize`.
    GoogleRecognize,
    /// Google Text-to-Speech `POST /v1/text:synthesize`.
    GoogleSynthesize,
    /// Google Text-to-Speech `GET /v1/voices`.
    GoogleVoices,
    /// Google's OAuth token endpoint `POST /token` (status faults answer in
    /// OAuth's words: `Unauthorized` is 400 `invalid_grant`).
    GoogleToken,
}

/// One misbehaviour. The status faults answer with the provider's own error
/// JSON: OpenAI's, or on the Google endpoints Google's (`Unauthorized` 403
/// PERMISSION_DENIED, `RateLimited` 429 RESOURCE_EXHAUSTED, `QuotaExceeded`
/// 403 PERMISSION_DENIED for disabled billing, 500 INTERNAL, 503 UNAVAILABLE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 401 `invalid_api_key`, whatever key was sent.
    Unauthorized,
    /// 429 `rate_limit_exceeded` with a `Retry-After` header.
    RateLimited { retry_after_secs: u64 },
    /// 429 `insufficient_quota`: retrying does not help.
    QuotaExceeded,
    /// 500 `server_error`.
    ServerError,
    /// 503 "overloaded".
    Overloaded,
    /// Answer normally, but only after this long without a single byte.
    SlowFirstByte { ms: u64 },
    /// Send this many bytes of the body, then drop the connection (no final chunk).
    DropMidBody { after_bytes: usize },
    /// A streamed reply (SSE) carries an event whose data is not JSON.
    MalformedSse,
    /// The audio ends cleanly at the HTTP level but is cut mid-frame at about half.
    TruncatedAudio,
    /// The content filter stops a chat reply after this many tokens
    /// (`finish_reason: "content_filter"`).
    ContentFilter { after_tokens: usize },
    /// Realtime: the socket drops without a close frame (1006) once the
    /// response has sent its first audio.
    CloseMidResponse,
    /// Realtime: the server ends the session this long after it opens,
    /// earlier than its `expires_at` said (an `error`, then close 1001, as
    /// the real server does at its limit).
    SessionLimit { after_ms: u64 },
    /// Realtime: the response fails (`response.done` with status `failed`).
    ResponseFailed,
}

impl Fault {
    /// Whether this fault means anything for that endpoint.
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        match self {
            Fault::MalformedSse => matches!(endpoint, Endpoint::Chat | Endpoint::Transcriptions | Endpoint::Speech),
            Fault::TruncatedAudio => matches!(endpoint, Endpoint::Speech | Endpoint::GoogleSynthesize),
            // An OAuth server has no quota of its own to run out of.
            Fault::QuotaExceeded => endpoint != Endpoint::GoogleToken,
            Fault::ContentFilter { .. } => endpoint == Endpoint::Chat,
            Fault::CloseMidResponse | Fault::SessionLimit { .. } | Fault::ResponseFailed => endpoint == Endpoint::Realtime,
            Fault::DropMidBody { .. } => endpoint != Endpoint::Realtime,
            _ => true,
        }
    }
}

/// Faults queued per endpoint; each request takes the next one, if any.
#[derive(Debug, Default)]
pub struct FaultPlan {
    queues: HashMap<Endpoint, VecDeque<Fault>>,
}

/// A fault pushed at an endpoint it cannot apply to.
#[derive(Debug, thiserror::Error)]
#[error("fault {fault:?} does not apply to the {endpoint:?} endpoint")]
pub struct FaultMismatch {
    pub endpoint: Endpoint,
    pub fault: Fault,
}

impl FaultPlan {
    /// Queues `fault` for the next `times` requests to `endpoint`.
    pub fn push(&mut self, endpoint: Endpoint, fault: Fault, times: usize) -> Result<(), FaultMismatch> {
        if !fault.applies_to(endpoint) {
            return Err(FaultMismatch { endpoint, fault });
        }
        let queue = self.queues.entry(endpoint).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
        Ok(())
    }

    /// The fault for the request arriving now, if one is queued.
    pub fn take(&mut self, endpoint: Endpoint) -> Option<Fault> {
        self.queues.get_mut(&endpoint)?.pop_front()
    }

    /// The next fault for `endpoint` if it is one that `wanted` picks.
    pub fn take_if(&mut self, endpoint: Endpoint, wanted: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let queue = self.queues.get_mut(&endpoint)?;
        if queue.front().is_some_and(wanted) {
            queue.pop_front()
        } else {
            None
        }
    }

    pub fn clear(&mut self) {
        self.queues.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_taken_in_order_per_endpoint() {
        let mut plan = FaultPlan::default();
        plan.push(Endpoint::Chat, Fault::ServerError, 2).unwrap();
        plan.push(Endpoint::Chat, Fault::Overloaded, 1).unwrap();
        assert_eq!(plan.take(Endpoint::Speech), None);
        assert_eq!(plan.take(Endpoint::Chat), Some(Fault::ServerError));
        assert_eq!(plan.take(Endpoint::Chat), Some(Fault::ServerError));
        assert_eq!(plan.take(Endpoint::Chat), Some(Fault::Overloaded));
        assert_eq!(plan.take(Endpoint::Chat), None);
    }

    #[test]
    fn audio_faults_only_fit_audio_endpoints() {
        let mut plan = FaultPlan::default();
        assert!(plan.push(Endpoint::Chat, Fault::TruncatedAudio, 1).is_err());
        assert!(plan.push(Endpoint::Models, Fault::MalformedSse, 1).is_err());
        assert!(plan.push(Endpoint::GoogleSynthesize, Fault::TruncatedAudio, 1).is_ok());
        assert!(plan.push(Endpoint::GoogleRecognize, Fault::TruncatedAudio, 1).is_err());
        assert!(plan.push(Endpoint::GoogleSynthesize, Fault::MalformedSse, 1).is_err());
        assert!(plan.push(Endpoint::GoogleToken, Fault::QuotaExceeded, 1).is_err());
    }

    #[test]
    fn google_endpoints_have_snake_case_names() {
        let e: Endpoint = serde_json::from_str("\"google_synthesize\"").unwrap();
        assert_eq!(e, Endpoint::GoogleSynthesize);
        assert_eq!(serde_json::to_string(&Endpoint::GoogleToken).unwrap(), "\"google_token\"");
    }
}

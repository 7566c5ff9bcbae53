//! One Realtime connection: a WebSocket to `<base URL>/realtime?model=…`
//! (wss for an https provider; plain ws only to this computer, as for every
//! key), the key in the `Authorization` header and nowhere else, and no
//! beta header. Events go out through a writer task, each with an id of
//! ours (`sori_<n>`, which an error about it echoes), and come in as
//! [`ServerEvent`]s; a failed handshake is a [`ProviderError`] of the usual
//! kinds (a wrong key is `Auth` and is not worth retrying).

use super::events::{ClientEvent, ServerEvent};
use crate::provider::openai::{is_loopback_url, BaseUrlError};
use crate::provider::{ErrorKind, ProviderError};
use crate::secrets::ApiKey;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// What arrives.
#[derive(Debug)]
pub enum Incoming {
    Event(ServerEvent),
    /// A message that is not an event the API promises (logged; the session goes on).
    Malformed(String),
    /// The server closed the socket (`code` 1000 normal, 1001 session limit,
    /// 4000 a refused interface), or the connection broke (`None`).
    Closed {
        code: Option<u16>,
        reason: String,
    },
}

pub struct Connection {
    out: mpsc::UnboundedSender<ClientEvent>,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    ids: AtomicU64,
}

/// The WebSocket URL for a provider's base URL, refusing, as every client
/// of Sori's does, to send a key unencrypted off this computer.
pub fn realtime_url(base_url: &str, model: &str, with_key: bool) -> Result<String, ProviderError> {
    let base = base_url.trim().trim_end_matches('/');
    let refuse = |e: BaseUrlError| ProviderError::new(ErrorKind::BadRequest, e.to_string());
    let url = reqwest::Url::parse(base).map_err(|_| refuse(BaseUrlError::Invalid(base_url.to_string())))?;
    let ws = match url.scheme() {
        "https" => "wss",
        "http" if !with_key || is_loopback_url(base) => "ws",
        "http" => return Err(refuse(BaseUrlError::InsecureKey(url.host_str().unwrap_or_default().to_string()))),
        _ => return Err(refuse(BaseUrlError::Invalid(base_url.to_string()))),
    };
    Ok(format!("{ws}{}/realtime?model={model}", &base[url.scheme().len()..]))
}

impl Connection {
    /// Opens the socket (within 10 s). The server's `session.created` is the first event.
    pub async fn open(base_url: &str, key: Option<&ApiKey>, model: &str) -> Result<Connection, ProviderError> {
        let url = realtime_url(base_url, model, key.is_some())?;
        let mut request = url.as_str().into_client_request().map_err(|e| ProviderError::new(ErrorKind::BadRequest, e.to_string()))?;
        if let Some(key) = key {
            let value = format!("Bearer {}", key.expose())
                .parse()
                .map_err(|_| ProviderError::new(ErrorKind::Auth, "The key holds characters a header cannot carry."))?;
            request.headers_mut().insert("authorization", value);
        }
        let connecting = tokio_tungstenite::connect_async(request);
        let (socket, _) = match tokio::time::timeout(Duration::from_secs(10), connecting).await {
            Err(_) => return Err(ProviderError::new(ErrorKind::Timeout, "The Realtime server did not answer within 10 s.")),
            Ok(Err(WsError::Http(response))) => {
                let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                let body = response.body().clone().unwrap_or_default();
                return Err(ProviderError::from_http(response.status().as_u16(), retry_after.as_deref(), &body));
            }
            Ok(Err(e)) => return Err(ProviderError::new(ErrorKind::Network, format!("Could not reach the Realtime server: {e}"))),
            Ok(Ok(s)) => s,
        };
        let (mut sink, mut stream) = socket.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<ClientEvent>();
        let (events, incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = out_rx.recv().await {
                let text = serde_json::to_string(&event).expect("client events serialize");
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        tokio::spawn(async move {
            let closed = loop {
                let item = match stream.next().await {
                    Some(Ok(Message::Text(text))) => match ServerEvent::parse(&text) {
                        Ok(e) => Incoming::Event(e),
                        Err(e) => Incoming::Malformed(e.to_string()),
                    },
                    Some(Ok(Message::Close(frame))) => {
                        break Incoming::Closed {
                            code: frame.as_ref().map(|f| u16::from(f.code)),
                            reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                        }
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => break Incoming::Closed { code: None, reason: e.to_string() },
                    None => break Incoming::Closed { code: None, reason: "the connection ended".into() },
                };
                if events.send(item).is_err() {
                    return;
                }
            };
            let _ = events.send(closed);
        });
        Ok(Connection { out, incoming, ids: AtomicU64::new(0) })
    }

    /// A fresh event id.
    pub fn next_id(&self) -> String {
        format!("sori_{}", self.ids.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Sends `make(id)`; false once the socket is gone.
    pub fn send(&self, make: impl FnOnce(String) -> ClientEvent) -> bool {
        self.out.send(make(self.next_id())).is_ok()
    }

    /// Appends 24 kHz mono PCM to the input buffer.
    pub fn append_audio(&self, samples: &[i16]) -> bool {
        let audio = super::events::pcm_to_base64(samples);
        self.send(|event_id| ClientEvent::Append { event_id, audio })
    }

    /// The next thing that arrives; `None` after `Closed` was given.
    pub async fn next(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_follows_the_base_and_a_key_never_goes_unencrypted_elsewhere() {
        assert_eq!(realtime_url("https://api.openai.com/v1/", "gpt-realtime", true).unwrap(), "wss://api.openai.com/v1/realtime?model=gpt-realtime");
        assert_eq!(realtime_url("http://127.0.0.1:8080/v1", "m", true).unwrap(), "ws://127.0.0.1:8080/v1/realtime?model=m");
        assert_eq!(realtime_url("http://localhost:9/v1", "m", true).unwrap(), "ws://localhost:9/v1/realtime?model=m");
        assert!(realtime_url("http://192.168.1.20:8080/v1", "m", true).unwrap_err().message.contains("unencrypted to 192.168.1.20"));
        assert!(realtime_url("http://192.168.1.20:8080/v1", "m", false).is_ok(), "no key, nothing to leak");
        assert!(realtime_url("ftp://x", "m", false).is_err());
    }
}

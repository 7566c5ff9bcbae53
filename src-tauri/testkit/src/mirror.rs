//! A model mirror: serves a folder of model files over HTTP as
//! `/<model id>/<file>`, the way a real model host does (`Content-Length`,
//! `Accept-Ranges`, `Range: bytes=N-` answered with 206), with the faults a
//! download meets: the connection dropped after some bytes, wrong bytes, a
//! server that ignores `Range`. Counts the bytes it sent, so a test can see
//! that a resumed download did not start over.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// What goes wrong with the next file request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorFault {
    /// Send this many bytes of the body, then drop the connection.
    DropAfter(u64),
    /// Send the right length of the wrong bytes.
    WrongBytes,
    /// Answer `Range` requests with the whole file (200).
    IgnoreRange,
}

struct MirrorState {
    root: PathBuf,
    /// Faults to come, each for one file name or for any request.
    faults: Mutex<VecDeque<(Option<String>, MirrorFault)>>,
    sent: AtomicU64,
    ranges: Mutex<Vec<Option<String>>>,
}

/// A running mirror on `127.0.0.1`. Dropping it stops it.
pub struct ModelMirror {
    addr: SocketAddr,
    state: Arc<MirrorState>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl ModelMirror {
    /// Serves `root` (a folder of `<id>/<file>`) on a free port, on the current runtime.
    pub async fn start(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        Self::bind(root, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves `root` on `addr`, on the current runtime.
    pub async fn bind(root: impl Into<PathBuf>, addr: SocketAddr) -> std::io::Result<Self> {
        let state = Arc::new(MirrorState { root: root.into(), faults: Mutex::default(), sent: AtomicU64::new(0), ranges: Mutex::default() });
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().route("/{id}/{file}", get(serve_file)).with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(ModelMirror { addr, state, shutdown: Some(tx) })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues `fault` for the next file request.
    pub fn push_fault(&self, fault: MirrorFault) {
        self.state.faults.lock().unwrap().push_back((None, fault));
    }

    /// Queues `fault` for the next request of a file called `file`.
    pub fn push_fault_on(&self, file: &str, fault: MirrorFault) {
        self.state.faults.lock().unwrap().push_back((Some(file.to_string()), fault));
    }

    /// Body bytes sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.state.sent.load(Ordering::Relaxed)
    }

    /// The `Range` header of every file request so far.
    pub fn ranges(&self) -> Vec<Option<String>> {
        self.state.ranges.lock().unwrap().clone()
    }
}

impl Drop for ModelMirror {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn safe(part: &str) -> bool {
    !part.is_empty() && !part.starts_with('.') && !part.contains(['/', '\\'])
}

async fn serve_file(State(state): State<Arc<MirrorState>>, Path((id, file)): Path<(String, String)>, headers: HeaderMap) -> Response {
    if !safe(&id) || !safe(&file) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    state.ranges.lock().unwrap().push(range.clone());
    let fault = {
        let mut faults = state.faults.lock().unwrap();
        let at = faults.iter().position(|(only, _)| only.as_deref().is_none_or(|f| f == file));
        at.and_then(|i| faults.remove(i)).map(|(_, f)| f)
    };
    let Ok(mut bytes) = tokio::fs::read(state.root.join(&id).join(&file)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let len = bytes.len() as u64;
    if fault == Some(MirrorFault::WrongBytes) {
        bytes.iter_mut().for_each(|b| *b = !*b);
    }
    let start = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")).and_then(|r| r.strip_suffix('-')) {
        Some(n) if fault != Some(MirrorFault::IgnoreRange) => match n.parse::<u64>() {
            Ok(n) if n < len => Some(n),
            _ => return (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))]).into_response(),
        },
        _ => None,
    };
    let body = bytes.split_off(start.unwrap_or(0) as usize);
    let body_len = body.len() as u64;
    let cut = match fault {
        Some(MirrorFault::DropAfter(n)) => Some(n.min(body_len)),
        _ => None,
    };
    let sent = state.clone();
    let stream = async_stream(body, cut, move |n| {
        sent.sent.fetch_add(n, Ordering::Relaxed);
    });
    let mut response = Response::builder()
        .header(header::CONTENT_LENGTH, body_len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, "application/octet-stream");
    response = match start {
        Some(s) => response.status(StatusCode::PARTIAL_CONTENT).header(header::CONTENT_RANGE, format!("bytes {s}-{}/{len}", len - 1)),
        None => response.status(StatusCode::OK),
    };
    response.body(Body::from_stream(stream)).expect("a valid response")
}

/// The body in 64 KiB chunks; with `cut`, an error after that many bytes
/// (hyper then drops the connection mid-body).
fn async_stream(
    body: Vec<u8>,
    cut: Option<u64>,
    on_sent: impl Fn(u64) + Send + 'static,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    let limit = cut.unwrap_or(body.len() as u64) as usize;
    let body = bytes::Bytes::from(body);
    let mut chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        (0..limit).step_by(64 * 1024).map(|at| Ok(body.slice(at..(at + 64 * 1024).min(limit)))).collect();
    if cut.is_some() {
        chunks.push(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "the mirror dropped the connection")));
    }
    futures_util::stream::iter(chunks).inspect(move |c| {
        if let Ok(b) = c {
            on_sent(b.len() as u64);
        }
    })
}

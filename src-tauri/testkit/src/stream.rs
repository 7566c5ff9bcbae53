//! Response bodies sent piece by piece on a schedule (the latency model), as
//! chunked HTTP, with an optional dropped connection part-way through.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use std::time::Duration;
use tokio::time::Instant;

/// How long after the last bytes a dropped connection is dropped.
const DROP_DELAY: Duration = Duration::from_millis(30);

/// One piece of a body and when to send it, counted from the request's start.
pub type Timed = (Duration, Bytes);

/// Builds a streamed response. Without a length it goes out chunked, as the
/// real API streams audio and SSE; with `content_length` the header is set, so
/// a dropped connection is an early EOF the client can detect.
pub fn paced(
    status: StatusCode,
    content_type: &str,
    start: Instant,
    parts: Vec<Timed>,
    drop_after: Option<usize>,
    content_length: Option<usize>,
) -> Response {
    let items = schedule(parts, drop_after);
    let stream = futures_util::stream::unfold(items.into_iter(), move |mut items| async move {
        let (at, item) = items.next()?;
        if item.is_err() {
            // Relative, not scheduled: the bytes before it must have left first
            // even when the schedule is already behind (e.g. a slow first request).
            tokio::time::sleep(DROP_DELAY).await;
        } else {
            tokio::time::sleep_until(start + at).await;
        }
        Some((item, items))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).expect("content type is ASCII"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(len) = content_length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    response
}

/// The pieces to send: all of them, or, with `drop_after`, only that many
/// bytes followed by an error that makes hyper abort the connection.
fn schedule(parts: Vec<Timed>, drop_after: Option<usize>) -> Vec<(Duration, Result<Bytes, std::io::Error>)> {
    let Some(limit) = drop_after else {
        return parts.into_iter().map(|(at, b)| (at, Ok(b))).collect();
    };
    let mut out = Vec::new();
    let mut sent = 0;
    let mut last_at = Duration::ZERO;
    for (at, bytes) in parts {
        last_at = at;
        if sent + bytes.len() >= limit {
            out.push((at, Ok(bytes.slice(..limit - sent))));
            break;
        }
        sent += bytes.len();
        out.push((at, Ok(bytes)));
    }
    out.push((last_at, Err(std::io::Error::other("testkit: connection dropped on purpose"))));
    out
}

/// A whole body in one piece: like the real API, nothing (not even the status
/// line) goes out before the reply is complete at `at`.
pub async fn whole(status: StatusCode, content_type: &str, start: Instant, at: Duration, body: Bytes, drop_after: Option<usize>) -> Response {
    tokio::time::sleep_until(start + at).await;
    let len = body.len();
    paced(status, content_type, start, vec![(Duration::ZERO, body)], drop_after, Some(len))
}

/// One server-sent event: `data: …` and a blank line.
pub fn sse_event(data: &str) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

pub const SSE_CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_keeps_exactly_the_first_bytes() {
        let parts = vec![(Duration::ZERO, Bytes::from_static(b"hello")), (Duration::from_millis(5), Bytes::from_static(b"world"))];
        let items = schedule(parts, Some(7));
        let sent: Vec<u8> = items.iter().filter_map(|(_, r)| r.as_ref().ok()).flat_map(|b| b.to_vec()).collect();
        assert_eq!(sent, b"hellowo");
        assert!(items.last().unwrap().1.is_err());
    }
}

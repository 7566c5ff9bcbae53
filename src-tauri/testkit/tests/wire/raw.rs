//! A raw HTTP/1.1 client over a TcpStream: the wire as it is, with chunked
//! framing decoded by hand, arrival times per read, and early EOF reported.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Body pieces as they arrived (after de-chunking), with their arrival time
    /// counted from when the request was sent.
    pub arrivals: Vec<(Duration, usize)>,
    pub chunked: bool,
    /// Whether the body ended properly (final chunk, or Content-Length met).
    pub complete: bool,
    /// Time from sending the request to the status line.
    pub first_byte: Duration,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("body is UTF-8")
    }

    /// The `data:` payloads of an SSE body, in order.
    pub fn sse_data(&self) -> Vec<String> {
        let text = self.text();
        assert!(text.is_empty() || text.ends_with("\n\n") || !self.complete, "an SSE body ends with a blank line: {text:?}");
        text.split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|event| {
                let data: Vec<&str> = event.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                assert!(!data.is_empty(), "every event has data: {event:?}");
                data.join("\n")
            })
            .collect()
    }
}

/// Sends one request (`Connection: close`) and reads the whole response.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect to the testkit");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let sent = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();

    let mut reader = Reader { stream, buf: Vec::new(), eof: false, sent, arrivals: Vec::new() };
    let status_line = reader.line().expect("a status line");
    let first_byte = sent.elapsed();
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("HTTP/1.1 NNN");
    let mut headers = Vec::new();
    while let Some(line) = reader.line() {
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').expect("header line");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let find = |name: &str| headers.iter().find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let chunked = find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    reader.arrivals.clear();
    let (body, complete, arrivals) = if chunked {
        let mut body = Vec::new();
        let mut arrivals = Vec::new();
        let complete = loop {
            let Some(size_line) = reader.line() else { break false };
            let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16).expect("chunk size");
            if size == 0 {
                let _ = reader.line();
                break true;
            }
            let Some(chunk) = reader.exact(size) else {
                body.extend_from_slice(&reader.rest());
                break false;
            };
            arrivals.push((reader.last_arrival(), chunk.len()));
            body.extend_from_slice(&chunk);
            reader.line();
        };
        (body, complete, arrivals)
    } else if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        match reader.exact(len) {
            Some(b) => (b, true, vec![(reader.last_arrival(), len)]),
            None => (reader.rest(), false, vec![]),
        }
    } else {
        let b = reader.rest();
        (b, true, vec![])
    };
    RawResponse { status, headers, body, arrivals, chunked, complete, first_byte }
}

struct Reader {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
    sent: Instant,
    arrivals: Vec<Duration>,
}

impl Reader {
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut tmp = [0u8; 8192];
        match self.stream.read(&mut tmp) {
            Ok(0) | Err(_) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.arrivals.push(self.sent.elapsed());
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    fn last_arrival(&self) -> Duration {
        self.arrivals.last().copied().unwrap_or_default()
    }

    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).to_string();
                self.buf.drain(..i + 2);
                return Some(line);
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn exact(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill() {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }

    fn rest(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }
}

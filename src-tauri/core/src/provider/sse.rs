//! Server-sent events parsed incrementally from bytes as they arrive, per the
//! HTML standard's rules: lines end in `\n`, `\r\n` or `\r` and may be split
//! across reads anywhere (even inside a UTF-8 character); `:` lines are
//! comments (keep-alives); `data:` lines accumulate; a blank line dispatches.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the server named the event type.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Why a stream cannot be parsed as SSE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("a line of the event stream is longer than {0} bytes")]
    LineTooLong(usize),
    #[error("the event stream is not valid UTF-8")]
    NotUtf8,
}

/// The incremental parser. Feed it with [`push`](Self::push); call
/// [`finish`](Self::finish) when the body ends.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// A `\r` ended the last line; a `\n` right after it belongs to it.
    after_cr: bool,
    data: Option<String>,
    event: Option<String>,
}

/// Bounds memory on a hostile or broken server: no single line may be larger.
pub const MAX_LINE: usize = 1 << 20;

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses more bytes; returns the events they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.line_done(&line)? {
                        out.push(event);
                    }
                }
                _ => {
                    if self.line.len() >= MAX_LINE {
                        return Err(SseError::LineTooLong(MAX_LINE));
                    }
                    self.line.push(b);
                }
            }
        }
        Ok(out)
    }

    /// The body ended: an event still being built is dispatched (servers often
    /// omit the final blank line), a half line is taken as a whole one.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            if let Some(e) = self.line_done(&line)? {
                return Ok(Some(e));
            }
        }
        Ok(self.dispatch())
    }

    fn line_done(&mut self, line: &[u8]) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                let data = self.data.get_or_insert_with(String::new);
                data.push_str(value);
                data.push('\n');
            }
            "event" => self.event = Some(value.to_string()),
            _ => {} // id, retry and unknown fields do not matter here
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        let mut data = self.data.take()?;
        data.pop(); // the last \n
        Some(SseEvent { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(bytes: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out: Vec<SseEvent> = bytes.chunks(piece).flat_map(|c| p.push(c).unwrap()).collect();
        out.extend(p.finish().unwrap());
        out
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn events_survive_any_split_and_any_line_ending() {
        let body = "data: {\"a\":\"안녕\"}\n\n: keep-alive\r\n\r\nevent: delta\rdata: line one\rdata: line two\r\rdata: [DONE]\r\n\r\n";
        for piece in 1..=body.len() {
            let events = parse_in_pieces(body.as_bytes(), piece);
            assert_eq!(data(&events), ["{\"a\":\"안녕\"}", "line one\nline two", "[DONE]"], "piece size {piece}");
            assert_eq!(events[1].event.as_deref(), Some("delta"));
            assert_eq!(events[0].event, None);
        }
    }

    #[test]
    fn comments_alone_dispatch_nothing_and_a_missing_blank_line_is_forgiven() {
        assert!(parse_in_pieces(b": ping\n\n: ping\n\n", 3).is_empty());
        assert_eq!(data(&parse_in_pieces(b"data: last", 4)), ["last"]);
        assert_eq!(data(&parse_in_pieces(b"data:no-space\n\ndata\n\n", 5)), ["no-space", ""]);
    }

    #[test]
    fn garbage_is_an_error_not_a_hang() {
        let mut p = SseParser::new();
        assert_eq!(p.push(b"data: \xff\xfe\n"), Err(SseError::NotUtf8));
        let mut p = SseParser::new();
        let huge = vec![b'x'; MAX_LINE + 1];
        assert_eq!(p.push(&huge), Err(SseError::LineTooLong(MAX_LINE)));
    }
}

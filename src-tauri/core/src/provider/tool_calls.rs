//! Whole tool calls from streamed pieces. OpenAI-compatible servers differ in
//! how they stream them, so the rules come from real servers: pieces belong
//! to the latest call at their index, but a new id at a known index starts a
//! new call (Ollama numbers every call 0); a call without an id gets a stable
//! `call_<n>`; a call's name may come in its first piece or all at once with
//! its arguments. Arguments stay the text the model wrote; the tool that runs
//! them parses them.

use super::{ToolCall, ToolCallDelta};

#[derive(Debug, Clone, Default)]
struct Partial {
    index: u32,
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Collects [`ToolCallDelta`]s as they stream; [`finish`](Self::finish) gives the calls.
#[derive(Debug, Clone, Default)]
pub struct ToolCallAssembler {
    calls: Vec<Partial>,
}

impl ToolCallAssembler {
    /// Whether any piece of a call has come.
    pub fn has_any(&self) -> bool {
        !self.calls.is_empty()
    }

    pub fn push(&mut self, delta: ToolCallDelta) {
        let same = |c: &Partial| c.index == delta.index && (delta.id.is_none() || c.id.is_none() || c.id == delta.id);
        let call = match self.calls.iter().rposition(|c| c.index == delta.index).filter(|&i| same(&self.calls[i])) {
            Some(i) => &mut self.calls[i],
            None => {
                self.calls.push(Partial { index: delta.index, ..Partial::default() });
                self.calls.last_mut().expect("just pushed")
            }
        };
        if call.id.is_none() {
            call.id = delta.id.filter(|id| !id.is_empty());
        }
        if let Some(name) = delta.name.filter(|n| !n.is_empty()) {
            if call.name.is_empty() {
                call.name = name;
            }
        }
        call.arguments.push_str(&delta.arguments);
    }

    /// The calls in the order they began; pieces that never named a tool are dropped.
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.name.is_empty())
            .map(|(n, c)| ToolCall {
                id: c.id.unwrap_or_else(|| format!("call_{n}")),
                name: c.name,
                arguments: if c.arguments.trim().is_empty() { "{}".into() } else { c.arguments },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> ToolCallDelta {
        ToolCallDelta { index, id: id.map(Into::into), name: name.map(Into::into), arguments: arguments.into() }
    }

    fn assemble(deltas: Vec<ToolCallDelta>) -> Vec<(String, String, String)> {
        let mut a = ToolCallAssembler::default();
        deltas.into_iter().for_each(|d| a.push(d));
        a.finish().into_iter().map(|c| (c.id, c.name, c.arguments)).collect()
    }

    fn call(id: &str, name: &str, arguments: &str) -> (String, String, String) {
        (id.into(), name.into(), arguments.into())
    }

    #[test]
    fn pieces_by_index_as_openai_streams_them() {
        let got = assemble(vec![
            delta(0, Some("call_a"), Some("lookup_order"), ""),
            delta(1, Some("call_b"), Some("search_faq"), ""),
            delta(0, None, None, "{\"order_id\":"),
            delta(1, None, None, "{\"q\":\"환불\"}"),
            delta(0, None, None, "\"A-1001\"}"),
        ]);
        assert_eq!(got, [call("call_a", "lookup_order", "{\"order_id\":\"A-1001\"}"), call("call_b", "search_faq", "{\"q\":\"환불\"}")]);
    }

    #[test]
    fn a_new_id_at_index_zero_is_a_new_call() {
        // Ollama: every call at index 0, each whole in one piece.
        let got = assemble(vec![delta(0, Some("c1"), Some("a"), "{\"x\":1}"), delta(0, Some("c2"), Some("b"), "{}")]);
        assert_eq!(got, [call("c1", "a", "{\"x\":1}"), call("c2", "b", "{}")]);
    }

    #[test]
    fn missing_ids_and_arguments_are_filled_in_and_nameless_pieces_dropped() {
        let got = assemble(vec![delta(0, None, Some("lookup_order"), ""), delta(3, None, None, "{\"stray\":true}")]);
        assert_eq!(got, [call("call_0", "lookup_order", "{}")]);
    }
}

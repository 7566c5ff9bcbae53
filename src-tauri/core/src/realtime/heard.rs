//! What the user heard of a Realtime reply, so a barge-in tells the model
//! the truth: the server sends audio faster than real time, so what was
//! *sent* says nothing; what the speaker *played* does. Each assistant audio
//! item is placed on the output's sample count as it is queued; at a barge-in
//! the played count names the item being heard and how far into it, which is
//! `conversation.item.truncate`'s `audio_end_ms` (per item: a response may
//! speak several items, a preamble and then the answer).

use super::events::RATE;
use crate::audio::output::AudioOutput;
use crate::audio::Pcm;

#[derive(Debug, Clone, PartialEq)]
struct Placed {
    item_id: String,
    content_index: u32,
    /// The output's queued count when the item's first audio was queued.
    start: u64,
    samples: u64,
}

/// The items of one response, in the order they were queued.
#[derive(Debug, Default)]
pub struct ItemAudio {
    items: Vec<Placed>,
}

/// Where to cut: the item, and how much of its audio was heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// Truncate this item to `audio_end_ms`.
    Truncate { item_id: String, content_index: u32, audio_end_ms: u64 },
    /// Nothing of the reply was heard: delete the item instead (a truncation
    /// to 0 ms would keep its words in the model's context).
    Delete { item_id: String },
}

impl ItemAudio {
    /// Queues a piece of an item's audio (24 kHz) on `output`, noting where it starts.
    pub fn queue(&mut self, output: &dyn AudioOutput, item_id: &str, content_index: u32, pcm: &Pcm) {
        let len = pcm.samples.len() as u64;
        match self.items.last_mut().filter(|p| p.item_id == item_id && p.content_index == content_index) {
            Some(placed) => placed.samples += len,
            None => self.items.push(Placed { item_id: item_id.to_string(), content_index, start: output.queued_samples(), samples: len }),
        }
        output.queue(pcm);
    }

    /// The cut for a barge-in when the output has played `played` samples:
    /// the last item that had started playing, to what of it was played.
    /// `None` when no audio was queued at all.
    pub fn cut(&self, played: u64) -> Option<Cut> {
        let first = self.items.first()?;
        let Some(current) = self.items.iter().rev().find(|p| p.start < played) else {
            return Some(Cut::Delete { item_id: first.item_id.clone() });
        };
        let heard = (played - current.start).min(current.samples);
        Some(Cut::Truncate { item_id: current.item_id.clone(), content_index: current.content_index, audio_end_ms: heard * 1000 / u64::from(RATE) })
    }

    /// How much of each item was heard when `played` samples had played:
    /// each item's id with the share of its audio (0 to 1), in order.
    pub fn heard(&self, played: u64) -> Vec<(String, f64)> {
        self.items
            .iter()
            .map(|p| {
                let heard = played.saturating_sub(p.start).min(p.samples);
                (p.item_id.clone(), if p.samples == 0 { 0.0 } else { heard as f64 / p.samples as f64 })
            })
            .collect()
    }

    /// The output's count at the end of everything queued for this response.
    pub fn end(&self) -> Option<u64> {
        self.items.last().map(|p| p.start + p.samples)
    }

    /// Whether audio of this item was queued.
    pub fn has(&self, item_id: &str) -> bool {
        self.items.iter().any(|p| p.item_id == item_id)
    }

    /// How many items have audio queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether any audio was queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::output::MemoryOutput;

    fn pcm(ms: u64) -> Pcm {
        Pcm { samples: vec![0; (ms * 24) as usize], sample_rate: RATE }
    }

    #[test]
    fn the_cut_names_the_item_being_heard_and_how_far_into_it() {
        let output = MemoryOutput::default();
        // Something else played before this response (a filler): 500 ms.
        output.queue(&pcm(500));
        let mut items = ItemAudio::default();
        items.queue(&output, "item_preamble", 0, &pcm(800));
        items.queue(&output, "item_preamble", 0, &pcm(400));
        items.queue(&output, "item_answer", 0, &pcm(3000));
        let at = |ms: u64| items.cut(ms * 24);
        assert_eq!(at(300), Some(Cut::Delete { item_id: "item_preamble".into() }), "only the filler was heard");
        assert_eq!(at(500 + 700), Some(Cut::Truncate { item_id: "item_preamble".into(), content_index: 0, audio_end_ms: 700 }));
        assert_eq!(at(500 + 1200 + 250), Some(Cut::Truncate { item_id: "item_answer".into(), content_index: 0, audio_end_ms: 250 }));
        // Never past the audio an item has.
        assert_eq!(at(500 + 1200 + 9000), Some(Cut::Truncate { item_id: "item_answer".into(), content_index: 0, audio_end_ms: 3000 }));
        assert_eq!(ItemAudio::default().cut(1000), None);
        let heard = items.heard((500 + 600 + 1500) * 24);
        assert_eq!(heard, vec![("item_preamble".to_string(), 1.0), ("item_answer".to_string(), 0.3)]);
        assert_eq!(items.end(), Some((500 + 1200 + 3000) * 24));
    }
}

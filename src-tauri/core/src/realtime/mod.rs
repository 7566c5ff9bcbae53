//! Realtime mode: speech to speech over the OpenAI Realtime API (one
//! WebSocket, audio both ways), the engine's second pipeline: the wire
//! format (`events`), the socket (`connection`), failures and retries
//! (`failures`), a new session made ready (`setup`), the link that keeps a
//! session configured and connected (`link`), a turn over it (`turn`;
//! `server_turn` when the server's voice detection started it; `confirm`
//! for a held call answered), and what was heard of a reply (`heard`),
//! which a barge-in truncates to.

pub mod confirm;
pub mod connection;
pub mod events;
pub mod failures;
pub mod heard;
pub mod link;
pub mod server_turn;
pub mod setup;
pub mod turn;

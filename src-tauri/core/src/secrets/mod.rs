//! API keys: the type that never prints itself, the stores that keep keys
//! (the OS keychain, or memory for this session when there is none), and key
//! status for the UI. No function here returns a key to the UI.

pub mod key;
pub mod status;
pub mod store;

pub use key::ApiKey;
pub use status::{KeySource, KeyStatus, Keys};
pub use store::{KeychainStore, MemoryStore, SecretError, SecretStore};

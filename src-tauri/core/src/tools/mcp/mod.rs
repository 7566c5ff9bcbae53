//! Model Context Protocol tool servers: any server the user configures (the
//! `mcpServers` shape, secrets in the keychain) offers its tools to the
//! agent, through `rmcp`. [`config`] is what the settings keep, [`client`]
//! one server and its tools, [`hub`] the session's servers.

pub mod client;
pub mod config;
pub mod hub;

pub use config::{import, McpServerConfig};
pub use hub::{McpHub, ServerStatus, ToolInfo};

//! The customer-service agent in the window: the shop's customers for the
//! picker, the user's click on a confirmation card (the same answer as
//! saying yes or no, as a turn of the conversation), and the MCP servers
//! (pasted in the `mcpServers` shape, their secrets sent to the keychain,
//! each server's state and tools, a tool switched on or off).

use super::session::session;
use super::{blocking, CommandError, Failure};
use crate::state::AppState;
use sori_core::event::TurnId;
use sori_core::settings::Settings;
use sori_core::tools::mcp::config::secret_account;
use sori_core::tools::mcp::{McpHub, McpServerConfig, ServerStatus};
use sori_core::tools::shop::Customer;
use sori_core::turn::TurnInput;
use tauri::State;

/// The customers in the shop the settings point at.
#[tauri::command]
pub async fn list_customers(state: State<'_, AppState>) -> Result<Vec<Customer>, CommandError> {
    let settings = state.settings();
    blocking(move || sori_core::app::agent::customers(&settings)).await?.map_err(|e| CommandError::new(Failure::Shop, e))
}

/// Confirm (or cancel) the call the agent holds; `text` is what the
/// transcript shows the user said, in the window's language.
#[tauri::command]
pub async fn answer_confirmation(state: State<'_, AppState>, approve: bool, text: String, speak: bool) -> Result<TurnId, CommandError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(CommandError::new(Failure::Empty, "The answer needs words for the transcript."));
    }
    Ok(session(&state)?.engine.ask_with(TurnInput::Answer { approve, text }, speak))
}

/// An MCP server as the settings show it: what the file keeps (secret
/// names, never values) and where it stands now.
#[derive(serde::Serialize)]
pub struct McpServerView {
    pub name: String,
    pub config: McpServerConfig,
    pub status: ServerStatus,
}

fn mcp_views(state: &AppState) -> Vec<McpServerView> {
    let settings = state.settings();
    // The window polls while servers start: the running hub answers without the keychain.
    let hub = McpHub::running(&settings.mcp_servers).or_else(|| sori_core::app::agent::mcp_hub(&settings, state.keys()));
    let status = hub.map(|hub| hub.status()).unwrap_or_default();
    settings
        .mcp_servers
        .into_iter()
        .map(|(name, config)| {
            let status = status.get(&name).cloned().unwrap_or(ServerStatus::Off);
            McpServerView { name, config, status }
        })
        .collect()
}

/// The configured MCP servers, each with its state and tools.
#[tauri::command]
pub async fn mcp_servers(state: State<'_, AppState>) -> Result<Vec<McpServerView>, CommandError> {
    let state = state.inner().clone();
    blocking(move || mcp_views(&state)).await
}

/// Replaces the MCP servers with a pasted `mcpServers` block: its values
/// go to the keychain, the rest to the settings file.
#[tauri::command]
pub async fn save_mcp_servers(app: tauri::AppHandle, state: State<'_, AppState>, text: String) -> Result<Vec<McpServerView>, CommandError> {
    let imported = sori_core::tools::mcp::import(&text).map_err(|e| CommandError::new(Failure::Invalid, e))?;
    let keeper = state.inner().clone();
    blocking(move || -> Result<(), CommandError> {
        for (server, name, value) in &imported.secrets {
            let value = sori_core::secrets::ApiKey::new(value.clone())
                .ok_or_else(|| CommandError::new(Failure::Invalid, format!("{server}: the value of {name} is empty.")))?;
            keeper.keys().set_secret(&secret_account(server, name), &value)?;
        }
        Ok(())
    })
    .await??;
    let settings = Settings { mcp_servers: imported.servers, ..state.settings() };
    super::settings::save_settings(app, state.clone(), settings).await?;
    mcp_servers(state).await
}

/// Switches one server's tool on or off.
#[tauri::command]
pub async fn set_mcp_tool(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    server: String,
    tool: String,
    enabled: bool,
) -> Result<Vec<McpServerView>, CommandError> {
    let mut settings = state.settings();
    let config =
        settings.mcp_servers.get_mut(&server).ok_or_else(|| CommandError::new(Failure::Invalid, format!("There is no server {server:?}.")))?;
    config.disabled_tools.retain(|t| *t != tool);
    if !enabled {
        config.disabled_tools.push(tool);
    }
    super::settings::save_settings(app, state.clone(), settings).await?;
    mcp_servers(state).await
}

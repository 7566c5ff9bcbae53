//! MCP servers as the settings keep them: the `mcpServers` shape desktop
//! apps use (a command with arguments, or a URL), where every environment
//! value and header value is a secret kept in the keychain, so the file
//! holds only their names. A block pasted from another app is split here
//! into the part the file keeps and the secrets the keychain keeps.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One server, as the settings file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct McpServerConfig {
    /// A program that speaks MCP on its stdin and stdout (`npx`, `uvx`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Or a streamable-HTTP server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Names of environment variables (a command) or headers (a URL) whose
    /// values are in the keychain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Tools the user switched off.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disabled_tools: Vec<String>,
    /// The whole server is off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Ask the user before a tool that does not say it only reads.
    pub confirm_changes: bool,
}

impl Default for McpServerConfig {
    fn default() -> Self {
        McpServerConfig {
            command: None,
            args: Vec::new(),
            url: None,
            secrets: Vec::new(),
            disabled_tools: Vec::new(),
            disabled: false,
            confirm_changes: true,
        }
    }
}

/// What the window shows for a secret's value; pasted back, the value in
/// the keychain is kept.
pub const KEPT: &str = "(kept in the keychain)";

/// The keychain account of one server's secret.
pub fn secret_account(server: &str, name: &str) -> String {
    format!("mcp:{server}/{name}")
}

/// A pasted block split in two: what the settings keep, and the secrets
/// (server, name, value) for the keychain.
#[derive(Debug, Default, PartialEq)]
pub struct Imported {
    pub servers: BTreeMap<String, McpServerConfig>,
    pub secrets: Vec<(String, String, String)>,
}

/// Reads `{"mcpServers": {...}}` (or the inner object) as Claude Desktop,
/// Cursor and VS Code write it. Settings Sori adds (`disabled_tools`,
/// `confirm_changes`) are kept when present.
pub fn import(text: &str) -> Result<Imported, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("This is not JSON: {e}."))?;
    let servers = value.get("mcpServers").unwrap_or(&value);
    let Value::Object(servers) = servers else { return Err("Expected an object of servers, like {\"mcpServers\": {\"name\": {...}}}.".into()) };
    let mut out = Imported::default();
    for (name, entry) in servers {
        check_name(name)?;
        let Value::Object(entry) = entry else { return Err(format!("Server {name:?} is not an object.")) };
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if matches!(entry.get("type").and_then(Value::as_str), Some("sse")) {
            return Err(format!("Server {name:?} uses the old SSE transport; Sori speaks stdio and streamable HTTP."));
        }
        let mut config = McpServerConfig { command: text("command"), url: text("url"), ..McpServerConfig::default() };
        config.args = entry
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        config.disabled = entry.get("disabled").and_then(Value::as_bool).unwrap_or(false);
        config.confirm_changes = entry.get("confirm_changes").and_then(Value::as_bool).unwrap_or(true);
        config.disabled_tools = entry
            .get("disabled_tools")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let values = if config.url.is_some() { entry.get("headers") } else { entry.get("env") };
        for (key, value) in values.and_then(Value::as_object).into_iter().flatten() {
            let value = value.as_str().ok_or_else(|| format!("{name}: the value of {key} must be text."))?;
            config.secrets.push(key.clone());
            if value != KEPT {
                out.secrets.push((name.clone(), key.clone(), value.to_string()));
            }
        }
        // Names already in the keychain stay listed.
        for kept in entry.get("secrets").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !config.secrets.iter().any(|s| s == kept) {
                config.secrets.push(kept.to_string());
            }
        }
        check(name, &config)?;
        out.servers.insert(name.clone(), config);
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty() && name.len() <= 32 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("Server name {name:?}: use up to 32 letters, digits, - or _."))
    }
}

/// Whether a server can be started as configured; the message says what to fix.
pub fn check(name: &str, config: &McpServerConfig) -> Result<(), String> {
    check_name(name)?;
    match (&config.command, &config.url) {
        (Some(_), None) => Ok(()),
        (None, Some(url)) => {
            let parsed = reqwest::Url::parse(url).map_err(|_| format!("{name}: {url:?} is not a URL."))?;
            let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            // Secrets travel only encrypted, or not off this computer.
            if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
                return Err(format!("{name}: use https (http only to this computer), so its headers are not sent in the clear."));
            }
            Ok(())
        }
        (Some(_), Some(_)) => Err(format!("{name}: give a command or a url, not both.")),
        (None, None) => Err(format!("{name}: give the command that starts it, or its url.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_block_keeps_names_in_the_file_and_values_for_the_keychain() {
        let pasted = r#"{"mcpServers": {
            "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_TOKEN": "ghp_secret"}},
            "remote": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer abc"}, "disabled": true}
        }}"#;
        let imported = import(pasted).unwrap();
        let github = &imported.servers["github"];
        assert_eq!((github.command.as_deref(), github.args.len(), github.secrets.as_slice()), (Some("npx"), 2, &["GITHUB_TOKEN".to_string()][..]));
        assert!(imported.servers["remote"].disabled && imported.servers["remote"].confirm_changes);
        assert_eq!(
            imported.secrets,
            [("github".into(), "GITHUB_TOKEN".into(), "ghp_secret".into()), ("remote".into(), "Authorization".into(), "Bearer abc".into())]
        );
        let file = serde_json::to_string(&imported.servers).unwrap();
        assert!(!file.contains("ghp_secret") && !file.contains("Bearer abc"), "{file}");
        // Pasted back as the window shows it, the kept value stays in the keychain.
        let again = import(&format!(r#"{{"github": {{"command": "npx", "env": {{"GITHUB_TOKEN": "{KEPT}"}}}}}}"#)).unwrap();
        assert_eq!((again.servers["github"].secrets.len(), again.secrets.len()), (1, 0));
    }

    #[test]
    fn what_cannot_work_is_refused_with_what_to_fix() {
        for (text, says) in [
            ("nope", "not JSON"),
            (r#"{"a b": {"command": "x"}}"#, "Server name"),
            (r#"{"s": {"url": "http://mcp.example.com/mcp"}}"#, "use https"),
            (r#"{"s": {}}"#, "give the command"),
            (r#"{"s": {"type": "sse", "url": "https://x/sse"}}"#, "SSE"),
            (r#"{"s": {"command": "x", "env": {"K": 1}}}"#, "must be text"),
        ] {
            let e = import(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(import(r#"{"s": {"url": "http://127.0.0.1:3001/mcp"}}"#).is_ok());
    }
}

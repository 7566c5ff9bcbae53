//! The customer-service agent from settings: the tools it may call (the
//! shop's orders and tickets, its help pages) and the instructions it gets
//! (the persona, then what is known of the customer), for every front end.

use crate::secrets::Keys;
use crate::settings::Settings;
use crate::tools::builtin::{FileTicket, LookupOrder, SearchFaq, TicketKind};
use crate::tools::faq::{self, Faq};
use crate::tools::mcp::config::secret_account;
use crate::tools::mcp::hub::Secrets;
use crate::tools::mcp::McpHub;
use crate::tools::shop::Shop;
use crate::tools::Tools;
use std::path::PathBuf;
use std::sync::Arc;

/// Where Sori keeps the sample shop and its help pages.
fn data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("sori")
}

fn shop_path(settings: &Settings) -> (PathBuf, bool) {
    match settings.shop_database.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(own) => (PathBuf::from(own), false),
        None => (data_dir().join("shop.sqlite"), true),
    }
}

fn open_shop(settings: &Settings) -> Result<Shop, String> {
    let (path, sample) = shop_path(settings);
    if sample {
        std::fs::create_dir_all(path.parent().unwrap_or(&path)).map_err(|e| e.to_string())?;
        Shop::open_sample(&path).map_err(|e| format!("{e} ({})", path.display()))
    } else if !path.is_file() {
        Err(format!("The shop database {} is not there: fix the path in Settings.", path.display()))
    } else {
        Shop::open(&path).map_err(|e| format!("{e} ({})", path.display()))
    }
}

/// The session's MCP servers (shared while their settings stay the same),
/// with their secrets from the keychain; `None` when none is configured.
pub fn mcp_hub(settings: &Settings, keys: &Keys) -> Option<Arc<McpHub>> {
    if settings.mcp_servers.is_empty() {
        return None;
    }
    let mut secrets = Secrets::new();
    for (server, config) in &settings.mcp_servers {
        for name in &config.secrets {
            // A secret that cannot be read is missing: the hub says so for that server.
            if let Ok(Some(value)) = keys.secret(&secret_account(server, name)) {
                secrets.entry(server.clone()).or_default().insert(name.clone(), value.expose().to_string());
            }
        }
    }
    Some(McpHub::shared(&settings.mcp_servers, &secrets))
}

/// The tools settings give the agent, and what stopped any of them (a shop
/// file that cannot be read): the agent then goes on without those tools.
pub fn tools(settings: &Settings, keys: &Keys) -> (Tools, Option<String>) {
    if !settings.agent_tools {
        return (Tools::default(), None);
    }
    let customer = settings.customer.clone().filter(|c| !c.trim().is_empty());
    let mut tools: Vec<Arc<dyn crate::tools::Tool>> = Vec::new();
    let mut problems = Vec::new();
    match open_shop(settings) {
        Ok(shop) => {
            let shop = Arc::new(shop);
            tools.push(Arc::new(LookupOrder { shop: shop.clone(), customer: customer.clone() }));
            // These change the shop: the user confirms each first (tools::confirm).
            tools.push(Arc::new(FileTicket { shop: shop.clone(), customer: customer.clone(), kind: TicketKind::Complaint }));
            tools.push(Arc::new(FileTicket { shop, customer, kind: TicketKind::Callback }));
        }
        Err(e) => problems.push(e),
    }
    let folder = match settings.faq_folder.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(own) => PathBuf::from(own),
        None => {
            let sample = data_dir().join("faq");
            if let Err(e) = faq::write_sample(&sample) {
                problems.push(format!("The sample help pages could not be written to {}: {e}", sample.display()));
            }
            sample
        }
    };
    match Faq::load(&folder) {
        Ok(faq) => tools.push(Arc::new(SearchFaq { faq: Arc::new(faq) })),
        Err(e) => problems.push(format!("The help pages in {} could not be read: {e}", folder.display())),
    }
    let mut tools = Tools::new(tools);
    if let Some(hub) = mcp_hub(settings, keys) {
        tools = tools.with_source(hub);
    }
    (tools, (!problems.is_empty()).then(|| format!("Some of the agent's tools are off. {}", problems.join(" "))))
}

/// The shop's customers, for the window's picker.
pub fn customers(settings: &Settings) -> Result<Vec<crate::tools::shop::Customer>, String> {
    open_shop(settings)?.customers().map_err(|e| e.to_string())
}

/// The agent's instructions: the persona, and when a customer is chosen,
/// who they are and their latest orders (as the Realtime tutorial puts the
/// user's context into the instructions).
pub fn instructions(settings: &Settings) -> String {
    let persona = crate::conversation::Conversation::with_persona(&settings.persona).persona;
    let Some(id) = settings.customer.as_deref().map(str::trim).filter(|c| !c.is_empty()) else { return persona };
    let Ok(shop) = open_shop(settings) else { return persona };
    let Ok(Some(customer)) = shop.customer(id) else { return persona };
    let orders = shop.recent_orders(id, 3).unwrap_or_default();
    let orders: Vec<String> = orders
        .iter()
        .map(|o| {
            format!("{} ({}, {}{})", o.number, o.placed_on, o.status, o.expected_on.as_deref().map(|d| format!(", expected {d}")).unwrap_or_default())
        })
        .collect();
    format!(
        "{persona}\n\nThe customer you are speaking with: {} (customer id {}), {} member, usually speaks {}. Cart total: {} {}. Recent orders: {}.",
        customer.name,
        customer.id,
        customer.tier,
        if customer.language == "ko" { "Korean" } else { "English" },
        customer.cart_total,
        customer.currency,
        if orders.is_empty() { "none".to_string() } else { orders.join("; ") }
    )
}

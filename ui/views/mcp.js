// MCP tool servers in the settings: each configured server with its state
// and its tools (each can be switched off), and the `mcpServers` block to
// paste or edit. Secret values never come back from the engine: the block
// shows them as kept in the keychain, and pasting it back keeps them.
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';

const $ = (id) => document.getElementById(id);
const KEPT = '(kept in the keychain)';
let servers = [];
let polling = null;

/** The block as the user would paste it, secrets shown as kept. */
function block(list) {
  const out = {};
  for (const { name, config } of list) {
    const entry = config.url ? { url: config.url } : { command: config.command, args: config.args ?? [] };
    const secrets = Object.fromEntries((config.secrets ?? []).map((n) => [n, KEPT]));
    if (Object.keys(secrets).length) entry[config.url ? 'headers' : 'env'] = secrets;
    if (config.disabled) entry.disabled = true;
    if (config.confirm_changes === false) entry.confirm_changes = false;
    if (config.disabled_tools?.length) entry.disabled_tools = config.disabled_tools;
    out[name] = entry;
  }
  return JSON.stringify({ mcpServers: out }, null, 2);
}

function statusText(status) {
  if (status.state === 'ready') return t('mcp_ready', { n: status.tools.filter((x) => x.enabled).length });
  if (status.state === 'failed') return t('mcp_failed', { error: status.error });
  return t(`mcp_${status.state}`);
}

function toolRow(server, tool) {
  const li = document.createElement('li');
  li.className = 'mcp-tool';
  const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: tool.enabled, id: `mcp-${server}-${tool.name}` });
  box.dataset.tool = tool.name;
  box.addEventListener('change', async () => {
    box.disabled = true;
    try {
      show(await ipc.setMcpTool(server, tool.name, box.checked));
    } catch (e) {
      box.checked = !box.checked;
      $('mcp-result').textContent = e?.message ?? String(e);
    } finally {
      box.disabled = false;
    }
  });
  const label = Object.assign(document.createElement('label'), { htmlFor: box.id, textContent: tool.name, title: tool.description });
  const tag = Object.assign(document.createElement('span'), { className: 'muted', textContent: tool.read_only ? t('mcpReadOnly') : t('mcpAsks') });
  li.append(box, label, tag);
  return li;
}

function show(list) {
  servers = list;
  // The block follows what is saved, unless the user is editing it.
  if (document.activeElement !== $('mcp-config')) $('mcp-config').value = block(list);
  const ul = $('mcp-list');
  if (!list.length) {
    ul.replaceChildren(Object.assign(document.createElement('li'), { className: 'muted', textContent: t('mcpNone') }));
  } else {
    ul.replaceChildren(
      ...list.map(({ name, status }) => {
        const li = document.createElement('li');
        li.className = 'mcp-server';
        li.dataset.server = name;
        li.dataset.state = status.state;
        const head = document.createElement('div');
        head.className = 'mcp-head';
        head.append(Object.assign(document.createElement('strong'), { textContent: name }), Object.assign(document.createElement('span'), { className: 'mcp-state', textContent: statusText(status) }));
        li.append(head);
        if (status.state === 'ready') {
          const tools = document.createElement('ul');
          tools.className = 'mcp-tools';
          tools.append(...status.tools.map((tool) => toolRow(name, tool)));
          li.append(tools);
        }
        return li;
      }),
    );
  }
  // Servers still starting: look again shortly.
  clearTimeout(polling);
  if (list.some((s) => s.status.state === 'connecting')) polling = setTimeout(refresh, 1000);
}

export async function refresh() {
  try {
    show(await ipc.mcpServers());
  } catch (e) {
    $('mcp-result').textContent = e?.message ?? String(e);
  }
}

export function render() {
  show(servers);
}

export function wire() {
  $('mcp-refresh').addEventListener('click', refresh);
  $('mcp-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = $('mcp-result');
    result.classList.remove('error');
    try {
      show(await ipc.saveMcpServers($('mcp-config').value));
      $('mcp-config').value = block(servers);
      result.textContent = t('mcpSaved');
    } catch (e) {
      // What was typed stays in the box to fix.
      result.textContent = e?.message ?? String(e);
      result.classList.add('error');
    }
  });
}

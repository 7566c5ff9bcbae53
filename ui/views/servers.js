// Chat servers already running on this computer (Ollama, llama.cpp, LM
// Studio), found on their usual ports with the models each offers; "Use
// this server" points chat at it (no key: nothing leaves the computer).
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
const NAMES = { ollama: 'Ollama', llama_cpp: 'llama.cpp', lm_studio: 'LM Studio', open_ai_compatible: 'OpenAI-compatible' };
let servers = null;

function row(server) {
  const li = document.createElement('li');
  li.className = 'model';
  li.dataset.server = server.base_url;
  const name = document.createElement('strong');
  name.textContent = `${NAMES[server.kind] ?? server.kind} · ${server.base_url}`;
  const meta = document.createElement('span');
  meta.className = 'muted';
  meta.textContent = server.models.length
    ? t('serverModels', { n: server.models.length, models: server.models.slice(0, 6).join(', ') })
    : t('serverNoModels');
  const use = document.createElement('button');
  use.type = 'button';
  use.textContent = t('useServer');
  use.disabled = server.models.length === 0;
  use.addEventListener('click', async () => {
    const model = server.models.includes(store.current().chat_model) ? store.current().chat_model : server.models[0];
    try {
      await store.save({ chat_provider: 'server', chat_base_url: server.base_url, chat_model: model });
      $('servers-result').textContent = t('serverInUse', { model, url: server.base_url });
    } catch (e) {
      $('servers-result').textContent = e?.fields?.map((f) => f.message).join(' ') || e?.message || String(e);
    }
  });
  li.append(name, meta, use);
  return li;
}

export function render() {
  const list = $('server-rows');
  if (!list) return;
  list.replaceChildren(...(servers ?? []).map(row));
  if (servers && !servers.length) $('servers-result').textContent = t('serversNone');
}

export async function refresh() {
  $('find-servers').disabled = true;
  $('servers-result').textContent = '';
  try {
    servers = await ipc.localServers();
  } catch (e) {
    servers = [];
    $('servers-result').textContent = e?.message ?? String(e);
  } finally {
    $('find-servers').disabled = false;
  }
  render();
}

export function wire() {
  $('find-servers')?.addEventListener('click', refresh);
}

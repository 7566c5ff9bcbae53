// The API-key panel. The key only passes through here on its way to Rust: the
// field is emptied at once and nothing keeps it but `pendingKey`, held only
// while the user decides whether to keep it for this session.
import { t } from '../i18n.js';
import { keyStatus, setKey, clearKey, checkKey } from '../ipc.js';
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
let lastStatus = null;
let pendingKey = null;
let onChanged = () => {};

const statusListeners = [];
/** Calls `f(status)` whenever the key's status is known anew. */
export const onStatus = (f) => statusListeners.push(f);

export function render(status = lastStatus) {
  if (!status) return;
  if (status !== lastStatus) statusListeners.forEach((f) => f(status));
  lastStatus = status;
  const where = status.source === 'environment' ? t('keyFromEnv') : status.store;
  $('key-status').textContent = status.set ? `${t('keySet')} · …${status.last4} · ${where}` : t('keyNone');
  $('key-status').dataset.set = String(status.set);
  $('key-clear').disabled = !status.set || status.source === 'environment';
}

function showNoKeychain(problem) {
  $('no-keychain-text').textContent = `${t('noKeychain')} (${problem})`;
  $('no-keychain').hidden = false;
}

const showError = (e) => {
  $('key-result').textContent = e?.message ?? String(e);
};

async function saveKey(sessionOnly) {
  const key = sessionOnly ? pendingKey : $('key-input').value;
  $('key-input').value = '';
  $('key-result').textContent = '';
  if (!key || !key.trim()) {
    $('key-result').textContent = t('keyEmpty');
    return;
  }
  try {
    render(await setKey(key, sessionOnly));
    pendingKey = null;
    $('no-keychain').hidden = true;
    onChanged();
  } catch (e) {
    if (e?.kind === 'no_keychain') {
      pendingKey = key;
      showNoKeychain(e.message);
    } else {
      pendingKey = null;
      showError(e);
    }
  }
}

export async function refresh() {
  try {
    $('provider-url').textContent = store.current().base_url ?? '';
    render(await keyStatus());
  } catch (e) {
    showError(e);
  }
}

export function wire(changed) {
  onChanged = changed ?? onChanged;
  store.onChange(() => refresh());
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    saveKey(false);
  });
  $('key-session').addEventListener('click', () => saveKey(true));
  $('key-clear').addEventListener('click', async () => {
    try {
      render(await clearKey());
      $('key-result').textContent = '';
      onChanged();
    } catch (e) {
      showError(e);
    }
  });
  $('key-check').addEventListener('click', async () => {
    $('key-result').textContent = '…';
    try {
      const r = await checkKey();
      const text = {
        works: () => t('keyWorks', { n: r.models }),
        rejected: () => t('keyRejected') + r.message,
        unreachable: () => t('keyUnreachable') + r.message,
        failed: () => t('keyFailed') + r.message,
      }[r.result];
      $('key-result').textContent = text ? text() : r.result;
      $('key-result').dataset.result = r.result;
    } catch (e) {
      showError(e);
    }
  });
}

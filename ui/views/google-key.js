// The Google Cloud key panel: an API key typed or pasted (a service account's
// key-file text pasted works too), or a key file chosen, whose text (never its
// path) goes to Rust once. Afterwards the page knows only the key's kind and
// label (…last 4, or the service account's e-mail address).
import { t } from '../i18n.js';
import { googleKeyStatus, setGoogleKey, clearGoogleKey, checkGoogleKey } from '../ipc.js';

const $ = (id) => document.getElementById(id);
let lastStatus = null;
let pendingKey = null;
let onChanged = () => {};

export function render(status = lastStatus) {
  if (!status) return;
  lastStatus = status;
  const c = status.credential;
  const what = !c ? '' : c.type === 'api_key' ? t('googleApiKey', { last4: c.last4 }) : t('googleServiceAccount', { email: c.client_email });
  $('google-status').textContent = status.set ? `${t('keySet')} · ${what} · ${status.store ?? ''}` : t('googleNone');
  $('google-status').dataset.set = String(status.set);
  $('google-clear').disabled = !status.set;
}

const showError = (e) => {
  $('google-result').textContent = e?.message ?? String(e);
};

async function save(key, sessionOnly) {
  $('google-input').value = '';
  $('google-result').textContent = '';
  if (!key || !key.trim()) {
    $('google-result').textContent = t('keyEmpty');
    return;
  }
  try {
    render(await setGoogleKey(key, sessionOnly));
    pendingKey = null;
    $('google-no-keychain').hidden = true;
    onChanged();
  } catch (e) {
    if (e?.kind === 'no_keychain') {
      pendingKey = key;
      $('google-no-keychain-text').textContent = `${t('noKeychain')} (${e.message})`;
      $('google-no-keychain').hidden = false;
    } else {
      pendingKey = null;
      showError(e);
    }
  }
}

export async function refresh() {
  try {
    render(await googleKeyStatus());
  } catch (e) {
    showError(e);
  }
}

export function wire(changed) {
  onChanged = changed ?? onChanged;
  $('google-form').addEventListener('submit', (event) => {
    event.preventDefault();
    save($('google-input').value, false);
  });
  $('google-session').addEventListener('click', () => save(pendingKey, true));
  $('google-file-choose').addEventListener('click', () => $('google-file').click());
  $('google-file').addEventListener('change', async () => {
    const file = $('google-file').files?.[0];
    $('google-file').value = '';
    if (file) save(await file.text(), false);
  });
  $('google-clear').addEventListener('click', async () => {
    try {
      render(await clearGoogleKey());
      $('google-result').textContent = '';
      onChanged();
    } catch (e) {
      showError(e);
    }
  });
  $('google-check').addEventListener('click', async () => {
    $('google-result').textContent = '…';
    try {
      const r = await checkGoogleKey();
      const text = {
        works: () => t('googleWorks', { n: r.models }),
        rejected: () => t('keyRejected') + r.message,
        unreachable: () => t('keyUnreachable') + r.message,
        failed: () => t('keyFailed') + r.message,
      }[r.result];
      $('google-result').textContent = text ? text() : r.result;
      $('google-result').dataset.result = r.result;
    } catch (e) {
      showError(e);
    }
  });
}

// The view: renders what the engine reports. No business rules live here.

import { appInfo, audioDevices, keyStatus, setKey, clearKey, checkKey, getSettings } from './ipc.js';
import { STRINGS, systemLanguage } from './i18n.js';

const $ = (id) => document.getElementById(id);
let lang = systemLanguage();
const t = (key) => STRINGS[lang][key] ?? STRINGS.en[key] ?? key;

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  $('lang-toggle').textContent = t('langToggle');
  $('lang-toggle').setAttribute('aria-label', t('langToggle'));
}

function renderDevices(list, devices) {
  list.replaceChildren();
  if (!devices.length) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = t('noDevices');
    list.append(li);
    return;
  }
  for (const d of devices) {
    const li = document.createElement('li');
    li.textContent = d.name;
    if (d.is_default) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = t('defaultDevice');
      li.append(' ', badge);
    }
    list.append(li);
  }
}

async function refreshDevices() {
  const error = $('devices-error');
  try {
    const devices = await audioDevices();
    error.hidden = true;
    renderDevices($('input-list'), devices.inputs);
    renderDevices($('output-list'), devices.outputs);
  } catch (e) {
    error.textContent = t('devicesFailed') + (e?.message ?? String(e));
    error.hidden = false;
  }
}

async function showVersion() {
  const info = await appInfo();
  $('app-version').textContent = `${info.name} ${info.version} · engine ${info.engine_version}`;
}

// The key panel. The key only passes through here on its way to Rust: the
// field is emptied at once and nothing keeps it but `pendingKey`, held only
// while the user decides whether to keep it for this session.
let lastStatus = null;
let pendingKey = null;

function renderKeyStatus(status) {
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

function showError(e) {
  $('key-result').textContent = e?.message ?? String(e);
}

async function saveKey(sessionOnly) {
  const key = sessionOnly ? pendingKey : $('key-input').value;
  $('key-input').value = '';
  $('key-result').textContent = '';
  if (!key || !key.trim()) {
    $('key-result').textContent = t('keyEmpty');
    return;
  }
  try {
    renderKeyStatus(await setKey(key, sessionOnly));
    pendingKey = null;
    $('no-keychain').hidden = true;
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

async function refreshKey() {
  try {
    const { settings } = await getSettings();
    $('provider-url').textContent = settings.base_url;
    renderKeyStatus(await keyStatus());
  } catch (e) {
    showError(e);
  }
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  saveKey(false);
});
$('key-session').addEventListener('click', () => saveKey(true));
$('key-clear').addEventListener('click', async () => {
  try {
    renderKeyStatus(await clearKey());
    $('key-result').textContent = '';
  } catch (e) {
    showError(e);
  }
});
$('key-check').addEventListener('click', async () => {
  $('key-result').textContent = '…';
  try {
    const r = await checkKey();
    const text = {
      works: () => t('keyWorks').replace('{n}', r.models),
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

$('lang-toggle').addEventListener('click', () => {
  lang = lang === 'ko' ? 'en' : 'ko';
  applyLanguage();
  refreshDevices();
  if (lastStatus) renderKeyStatus(lastStatus);
});
$('refresh-devices').addEventListener('click', refreshDevices);

applyLanguage();
refreshKey();
showVersion().catch((e) => { $('app-version').textContent = String(e?.message ?? e); });
refreshDevices();

// The view: renders what the engine reports. No business rules live here.

import { appInfo, audioDevices } from './ipc.js';
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

$('lang-toggle').addEventListener('click', () => {
  lang = lang === 'ko' ? 'en' : 'ko';
  applyLanguage();
  refreshDevices();
});
$('refresh-devices').addEventListener('click', refreshDevices);

applyLanguage();
showVersion().catch((e) => { $('app-version').textContent = String(e?.message ?? e); });
refreshDevices();

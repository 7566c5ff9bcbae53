// The window: tabs, language, and the engine's events sent to the views that
// show them. No business rules live here or in the views.

import { appInfo, startSession } from './ipc.js';
import { t, translate, language, setLanguage, systemLanguage } from './i18n.js';
import * as status from './views/status.js';
import * as notices from './views/notices.js';
import * as talk from './views/talk.js';
import * as voice from './views/voice.js';
import * as settingsView from './views/settings.js';
import * as keyPanel from './views/key-panel.js';
import * as googleKey from './views/google-key.js';
import * as devices from './views/devices.js';
import * as inspector from './views/inspector.js';
import * as history from './views/history.js';
import * as store from './views/store.js';
import * as localModels from './views/models.js';
import * as firstRun from './views/first-run.js';
import * as servers from './views/servers.js';
import * as agent from './views/agent.js';
import * as mcp from './views/mcp.js';

const $ = (id) => document.getElementById(id);

function renderAll() {
  translate();
  $('lang-toggle').textContent = t('langToggle');
  $('lang-toggle').setAttribute('aria-label', t('langToggle'));
  status.render();
  talk.render();
  voice.render();
  settingsView.render();
  keyPanel.render();
  googleKey.render();
  localModels.render();
  firstRun.render();
  devices.refresh();
  inspector.render();
  agent.render();
  mcp.render();
}

// Tabs, with the arrow keys moving between them as in the ARIA pattern.
const TABS = ['talk', 'voice', 'settings', 'inspector', 'history'];
function showTab(name, focus = false) {
  for (const n of TABS) {
    const tab = $(`tab-${n}`);
    const on = n === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`view-${n}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name === 'history') history.refresh();
  if (name === 'settings') {
    settingsView.refreshModels();
    localModels.refresh();
    mcp.refresh();
  }
}
for (const n of TABS) {
  $(`tab-${n}`).addEventListener('click', () => showTab(n));
  $(`tab-${n}`).addEventListener('keydown', (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (step) showTab(TABS[(TABS.indexOf(n) + step + TABS.length) % TABS.length], true);
  });
}
notices.setActions({ settings: () => showTab('settings', true) });

function onEvent(e) {
  inspector.onEvent(e);
  switch (e.type) {
    case 'request_classified': case 'tool_started': case 'tool_finished':
    case 'confirmation_asked': case 'confirmation_settled':
      agent.onEvent(e);
      break;
    case 'status': status.setPhase(e.phase); break;
    case 'level': status.setLevel(e.dbfs, e.speech); break;
    case 'realtime':
      status.setLink(e);
      // Connected again: the lost connection's notice has been answered (the pill says how).
      if (e.state === 'connected') notices.clear('error');
      break;
    case 'rate_limits': status.setLimits(e.limits); break;
    case 'user_speech_started': status.setPhase('listening'); break;
    case 'user_transcript': talk.userSaid(e.turn, e.text); break;
    case 'assistant_delta': talk.replyDelta(e.turn, e.text); break;
    case 'retrying': notices.forRetry(e); break;
    case 'error': status.setPhase('error'); notices.forError(e); break;
    case 'warning': notices.forWarning(e); break;
    case 'turn_ended':
      talk.turnEnded(e);
      agent.onEvent(e);
      notices.clear('retry');
      // A turn that failed stays shown as failed (the apology Sori spoke does not undo that).
      if (e.reason === 'failed' || e.reason === 'internal') status.setPhase('error');
      break;
    default: break;
  }
}

$('lang-toggle').addEventListener('click', () => {
  setLanguage(language() === 'ko' ? 'en' : 'ko');
  renderAll();
});

async function start() {
  talk.wire(inspector.markTyped, firstRun.guard);
  localModels.wire();
  servers.wire();
  agent.wire(inspector.markTyped);
  mcp.wire();
  firstRun.wire({ settings: () => showTab('settings', true) });
  keyPanel.onStatus(firstRun.setKeyStatus);
  voice.wire();
  devices.wire();
  keyPanel.wire(() => settingsView.refreshModels());
  googleKey.wire(() => voice.refresh());
  settingsView.wire((saved) => {
    talk.configure({ hotkey: saved.hotkey, handsFree: saved.input_mode === 'hands_free' });
    if (!joined) joinSession();
  });
  history.wire((records) => {
    talk.clearTranscript();
    records.forEach((r, i) => {
      talk.userSaid(`h${i}`, r.user);
      if (r.request_type) agent.onEvent({ type: 'request_classified', turn: `h${i}`, request_type: r.request_type });
      talk.replyDelta(`h${i}`, r.assistant);
      talk.turnEnded({ turn: `h${i}`, heard: r.assistant, interrupted: r.interrupted, incomplete: r.incomplete, reason: r.reason });
    });
    showTab('talk');
  });
  let warnings = [];
  try {
    ({ warnings } = await store.load());
  } catch (e) {
    notices.show({ id: 'settings', kind: 'error', text: e?.message ?? String(e) });
  }
  const ui = store.current().ui_language;
  setLanguage(ui === 'ko' || ui === 'en' ? ui : systemLanguage());
  await Promise.all([settingsView.refreshDevices(), localModels.refresh()]);
  renderAll();
  keyPanel.refresh();
  googleKey.refresh();
  talk.configure({ hotkey: store.current().hotkey, handsFree: store.current().input_mode === 'hands_free' });
  if (warnings.length) notices.show({ id: 'settings_recovered', text: t('settingsRecovered') + warnings.join(' ') });
  // Every control is wired and the settings are shown: a click from now on is
  // heard (one landing before the modules ran would do nothing, silently).
  document.documentElement.dataset.ready = 'true';
  appInfo()
    .then((info) => { $('app-version').textContent = `${info.name} ${info.version} · engine ${info.engine_version}`; })
    .catch((e) => { $('app-version').textContent = String(e?.message ?? e); });
  await joinSession();
}

let joined = false;
/** Starts (or joins) the session; after a failure, saving the settings tries again. */
async function joinSession() {
  try {
    const info = await startSession(onEvent);
    joined = true;
    notices.clear('session');
    if (info.hotkey_error) notices.show({ id: 'hotkey', kind: 'info', text: t('hotkeyUnavailable', { why: info.hotkey_error }) });
    talk.configure({ hotkey: info.hotkey ?? store.current().hotkey });
  } catch (e) {
    notices.show({ id: 'session', kind: 'error', text: e?.message ?? String(e), action: { label: 'openSettings', run: 'settings' } });
  }
}

start();

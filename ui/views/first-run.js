// The first run: with no key and nothing on this computer chosen, the talk
// view offers two ways in instead of failing on the network: "Use Sori on
// this computer" (install the three default models, speech-to-text, chat
// and voice, with their sizes shown, then talk with no account and no
// network) or "Connect a provider" (address and key, in Settings).
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';
import * as localModels from './models.js';
import * as notices from './notices.js';

const $ = (id) => document.getElementById(id);
let keySet = false;
let openSettings = () => {};

const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;
const loopback = (url) => {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** Whether Sori has no way to answer yet: no key for a remote server, and nothing local chosen. */
export function needed(s = store.current()) {
  const local = s.stt_provider === 'local' || s.chat_provider === 'local' || s.tts_provider === 'local';
  const chat = s.chat_base_url || s.base_url;
  return !local && !keySet && !loopback(chat ?? '');
}

/**
 * The models "Use this computer" installs: the chosen speech-to-text model,
 * the recommended voice, and the chosen chat model, or for `auto` the one
 * it runs (the one installed, else the one suggested for this computer's memory).
 */
function wanted() {
  const state = localModels.current();
  const { local_stt_model: id, local_chat_model: chosen } = store.current();
  const chat = chosen && chosen !== 'auto' ? chosen : state.active_chat ?? state.suggested_chat;
  return state.models.filter((m) => m.id === id || (m.kind === 'speech' && m.recommended) || (m.kind === 'chat' && m.id === chat));
}

export function render() {
  const show = needed();
  $('first-run').hidden = !show;
  $('empty').hidden = show || $('transcript').children.length > 0;
  if (!show) return;
  const models = wanted();
  const missing = models.filter((m) => !m.installed);
  const names = models.map((m) => m.name).join(', ');
  $('first-run-sizes').textContent = missing.length
    ? t('firstRunSizes', { models: missing.map((m) => `${m.name} (${mb(m.size)})`).join(', '), total: mb(missing.reduce((n, m) => n + m.size, 0)) })
    : t('firstRunSizesDone', { models: names });
}

/** Tells the chooser whether a key is set (from the key panel's status). */
export function setKeyStatus(status) {
  keySet = !!status?.set;
  render();
}

async function useThisComputer() {
  const error = $('first-run-error');
  const button = $('first-run-local');
  error.textContent = '';
  button.disabled = true;
  const bar = $('first-run-progress');
  try {
    for (const m of wanted().filter((x) => !x.installed)) {
      bar.hidden = false;
      await localModels.install(m.id, (p) => {
        bar.max = p.total || 1;
        bar.value = p.done;
        $('first-run-progress-text').textContent = t('modelProgress', { done: mb(p.done), total: mb(p.total), pct: Math.floor((100 * p.done) / (p.total || 1)) });
      });
    }
    await store.save({ stt_provider: 'local', chat_provider: 'local', tts_provider: 'local' });
    $('first-run-progress-text').textContent = '';
    notices.show({ id: 'first-run', kind: 'info', text: t('firstRunDone') });
  } catch (e) {
    error.textContent = e?.fields?.map((f) => f.message).join(' ') || e?.message || String(e);
  } finally {
    bar.hidden = true;
    button.disabled = false;
    render();
  }
}

/** Stops a typed question that could not be answered, and says what to do. */
export function guard() {
  if (!needed()) return true;
  $('first-run-error').textContent = t('firstRunNeeded');
  $('first-run').scrollIntoView?.({ block: 'nearest' });
  return false;
}

export function wire({ settings }) {
  openSettings = settings;
  $('first-run-local').addEventListener('click', useThisComputer);
  $('first-run-cloud').addEventListener('click', () => openSettings());
  store.onChange(render);
  localModels.onChange(render);
}

// Models on this computer: the catalogue (name, languages, size, licence),
// which are installed, and installs with a progress bar that can be cancelled
// and resumed. Also used by the first-run chooser to install the defaults.
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
let state = { dir: '', models: [], espeak: true, imported: [], suggested_chat: '', active_chat: null, chat_speed: null };
const running = new Map(); // id -> {done, total}
const listeners = [];

const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;

/** Calls `f(state)` whenever the list changes. */
export const onChange = (f) => listeners.push(f);
export const current = () => state;
export const installed = (id) => state.models.some((m) => m.id === id && m.installed);

export async function refresh() {
  try {
    state = await ipc.localModels();
  } catch (e) {
    state = { dir: '', models: [], espeak: false, imported: [], error: e?.message ?? String(e) };
  }
  render();
  listeners.forEach((f) => f(state));
}

/**
 * Installs `id`, showing progress in the models panel (and to `onProgress`);
 * resolves when it is installed, rejects with the engine's error.
 */
export async function install(id, onProgress) {
  running.set(id, { done: 0, total: state.models.find((m) => m.id === id)?.size ?? 0 });
  render();
  try {
    await ipc.installModel(id, (p) => {
      running.set(id, p);
      showProgress(id);
      onProgress?.(p);
    });
  } finally {
    running.delete(id);
    await refresh();
  }
}

function showProgress(id) {
  const p = running.get(id);
  const bar = document.querySelector(`[data-model="${id}"] progress`);
  if (!p || !bar) return;
  bar.max = p.total || 1;
  bar.value = p.done;
  const text = document.querySelector(`[data-model="${id}"] .model-progress-text`);
  if (text) text.textContent = t('modelProgress', { done: mb(p.done), total: mb(p.total), pct: Math.floor((100 * p.done) / (p.total || 1)) });
}

function row(m) {
  const li = document.createElement('li');
  li.className = 'model';
  li.dataset.model = m.id;
  const name = document.createElement('strong');
  name.textContent = m.name;
  const suggested = m.kind === 'chat' ? m.id === state.suggested_chat : m.recommended;
  const tags = [suggested && t(m.kind === 'chat' ? 'modelSuggested' : 'modelRecommended'), m.starter && t('modelStarter'), !m.tested && t('modelExperimental')].filter(Boolean);
  const meta = document.createElement('span');
  meta.className = 'muted';
  const kind = { speech_to_text: 'modelKindStt', speech: 'modelKindSpeech', chat: 'modelKindChat' }[m.kind];
  meta.textContent = [kind && t(kind), mb(m.size), m.languages.join(' · '), m.licence, ...tags].filter(Boolean).join(' · ');
  const stateText = document.createElement('span');
  stateText.className = 'model-state';
  const actions = document.createElement('span');
  actions.className = 'row';
  const button = (label, run, cls = 'ghost') => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = t(label);
    b.addEventListener('click', run);
    actions.append(b);
    return b;
  };
  const error = document.createElement('p');
  error.className = 'field-error';
  error.setAttribute('role', 'alert');
  const fail = (e) => { if (e?.kind !== 'cancelled') error.textContent = e?.message ?? String(e); };
  if (running.has(m.id)) {
    stateText.textContent = t('modelInstalling');
    const bar = document.createElement('progress');
    bar.setAttribute('aria-label', t('modelInstalling'));
    const text = document.createElement('span');
    text.className = 'model-progress-text muted';
    li.append(name, meta, stateText, bar, text);
    button('cancel', () => ipc.cancelModelInstall(m.id).catch(fail));
  } else if (m.installed) {
    stateText.textContent = t('modelInstalled');
    li.append(name, meta, stateText);
    button('remove', () => ipc.removeModel(m.id).then(refresh).catch(fail));
  } else {
    stateText.textContent = m.partial_bytes ? t('modelPartial', { done: mb(m.partial_bytes) }) : t('modelNotInstalled');
    li.append(name, meta, stateText);
    button(m.partial_bytes ? 'resume' : 'install', () => install(m.id).catch(fail), '');
  }
  li.append(actions, error);
  return li;
}

export function render() {
  const list = $('model-rows');
  if (!list) return;
  const imported = (state.imported ?? []).map((m) => ({ ...m, kind: 'chat', languages: [], licence: t('modelImported'), tested: true, installed: true }));
  list.replaceChildren(...state.models.map(row), ...imported.map(row));
  for (const id of running.keys()) showProgress(id);
  $('models-dir').textContent = state.dir ? t('modelsDir', { dir: state.dir }) : state.error ?? '';
  $('espeak-missing').hidden = state.espeak !== false || !!state.error;
  // Where only the small starter set could be installed, say so and point at the better ones.
  const s = store.current();
  const active = state.models.find((m) => m.id === s.local_stt_model);
  const better = state.models.some((m) => m.kind === 'speech_to_text' && !m.starter && !m.installed);
  $('models-starter').hidden = !(s.stt_provider === 'local' && active?.starter && better);
}

/** Copies the GGUF file at the typed path into Sori's models. */
async function importGguf(event) {
  event.preventDefault();
  const result = $('import-gguf-result');
  const path = $('import-gguf-path').value.trim();
  if (!path) return;
  result.textContent = '';
  try {
    const id = await ipc.importGguf(path);
    result.textContent = t('importedAs', { id });
    $('import-gguf-path').value = '';
    await refresh();
  } catch (e) {
    result.textContent = e?.message ?? String(e);
  }
}

export function wire() {
  $('refresh-local-models')?.addEventListener('click', refresh);
  $('import-gguf')?.addEventListener('submit', importGguf);
}

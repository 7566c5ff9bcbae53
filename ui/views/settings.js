// The settings form: every field of the engine's settings, field-level errors
// from the engine next to their field, models from the server's list when it
// gives one (free text always works), devices from the audio system.
import { t, fieldError } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';
import * as localModels from './models.js';

const $ = (id) => document.getElementById(id);

// [section, field, kind, options]
const WHERE = [['server', 'onServer'], ['local', 'onThisComputer']];
// The speech stages may also run on Google Cloud (chat may not).
const SPEECH_WHERE = [...WHERE, ['google', 'onGoogle']];
const GOOGLE_MODELS = ['latest_short', 'latest_long', 'default', 'command_and_search', 'phone_call', 'video'].map((m) => [m, m]);
const FIELDS = [
  ['modeSection', 'conversation_mode', 'select', [['chained', 'modeChained'], ['realtime', 'modeRealtime']]],
  ['modeSection', 'realtime_model', 'text'],
  ['modeSection', 'realtime_voice', 'select', ['marin', 'cedar', 'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse'].map((v) => [v, v])],
  ['modeSection', 'realtime_turns', 'select', [['sori', 'turnsSori'], ['server_vad', 'turnsServerVad'], ['semantic_vad', 'turnsSemanticVad']]],
  ['providerSection', 'base_url', 'url'],
  ['stagesSection', 'stt_provider', 'select', SPEECH_WHERE],
  ['stagesSection', 'local_stt_model', 'localModel'],
  ['stagesSection', 'stt_base_url', 'optionalUrl'],
  ['stagesSection', 'chat_provider', 'select', WHERE],
  ['stagesSection', 'local_chat_model', 'localChat'],
  ['stagesSection', 'chat_base_url', 'optionalUrl'],
  ['stagesSection', 'tts_provider', 'select', SPEECH_WHERE],
  ['stagesSection', 'local_voice', 'localVoice'],
  ['stagesSection', 'tts_base_url', 'optionalUrl'],
  ['googleSection', 'google_languages', 'list'],
  ['googleSection', 'google_stt_model', 'select', GOOGLE_MODELS],
  ['googleSection', 'google_endpoint', 'optionalUrl'],
  ['modelsSection', 'stt_model', 'model'],
  ['modelsSection', 'chat_model', 'model'],
  ['modelsSection', 'tts_model', 'model'],
  ['modelsSection', 'max_reply_tokens', 'tokens'],
  ['languageSection', 'language', 'select', [['auto', 'langAuto'], ['ko', '한국어'], ['en', 'English']]],
  ['languageSection', 'ui_language', 'select', [['system', 'uiSystem'], ['ko', '한국어'], ['en', 'English']]],
  ['languageSection', 'vocabulary', 'textarea'],
  ['languageSection', 'persona', 'textarea'],
  ['agentSection', 'agent_tools', 'checkbox'],
  ['agentSection', 'customer', 'optionalText'],
  ['agentSection', 'shop_database', 'optionalText'],
  ['agentSection', 'faq_folder', 'optionalText'],
  ['inputSection', 'input_mode', 'select', [['push_to_talk', 'modePtt'], ['hands_free', 'modeHandsFree']]],
  ['inputSection', 'voice_barge_in', 'checkbox'],
  ['inputSection', 'speaker_setup', 'select', [['auto', 'setupAuto'], ['speakers', 'setupSpeakers'], ['headset', 'setupHeadset']]],
  ['inputSection', 'noise_suppression', 'checkbox'],
  ['inputSection', 'auto_gain', 'checkbox'],
  ['inputSection', 'hotkey', 'text'],
  ['inputSection', 'vad_aggressiveness', 'range'],
  ['inputSection', 'end_silence_ms', 'number'],
  ['inputSection', 'early_transcription', 'checkbox'],
  ['devicesSection', 'input_device', 'device'],
  ['devicesSection', 'output_device', 'device'],
  ['historySection', 'history_enabled', 'checkbox'],
];
const LABELS = {
  base_url: 'baseUrl', stt_model: 'sttModel', chat_model: 'chatModel', tts_model: 'ttsModel', language: 'language',
  ui_language: 'uiLanguage', persona: 'persona', input_mode: 'inputMode', voice_barge_in: 'bargeIn', hotkey: 'hotkey',
  vad_aggressiveness: 'vad', end_silence_ms: 'endSilence', input_device: 'inputDevice', output_device: 'outputDevice',
  history_enabled: 'historyEnabled', max_reply_tokens: 'maxReplyTokens', stt_provider: 'sttProvider', tts_provider: 'ttsProvider',
  local_stt_model: 'localSttModel', local_voice: 'localVoice', chat_provider: 'chatProvider', local_chat_model: 'localChatModel',
  early_transcription: 'earlyTranscription', speaker_setup: 'speakerSetup', noise_suppression: 'noiseSuppression', auto_gain: 'autoGain',
  conversation_mode: 'conversationMode', realtime_model: 'realtimeModel', realtime_voice: 'realtimeVoice', realtime_turns: 'realtimeTurns',
  google_languages: 'googleLanguages', google_stt_model: 'googleSttModel', google_endpoint: 'googleEndpoint', vocabulary: 'vocabulary',
  agent_tools: 'agentTools', customer: 'customerId', shop_database: 'shopDatabase', faq_folder: 'faqFolder', stt_base_url: 'sttBaseUrl', chat_base_url: 'chatBaseUrl', tts_base_url: 'ttsBaseUrl',
};
const label = (key) => (key in { '한국어': 1, English: 1 } || key.includes('_') ? key : t(key));
let devices = { inputs: [], outputs: [] };
let models = null;

/** The catalogue's speech-to-text models as choices, marked when not installed yet. */
function fillLocalModels(el, value) {
  const stt = localModels.current().models.filter((m) => m.kind === 'speech_to_text');
  const options = stt.map((m) => new Option(m.installed ? m.name : `${m.name} (${t('modelNotInstalled')})`, m.id));
  if (value && !stt.some((m) => m.id === value)) options.unshift(new Option(value, value));
  el.replaceChildren(...options);
  el.value = value ?? '';
}

/** Local chat models: `auto` (naming what it runs now), the catalogue's, then imported GGUF files. */
function fillLocalChat(el, value) {
  const state = localModels.current();
  const chat = state.models.filter((m) => m.kind === 'chat');
  const active = [...chat, ...(state.imported ?? [])].find((m) => m.id === state.active_chat);
  const options = [
    new Option(active ? t('chatAuto', { name: active.name }) : t('chatAutoNone'), 'auto'),
    ...chat.map((m) => new Option(m.installed ? m.name : `${m.name} (${t('modelNotInstalled')})`, m.id)),
    ...(state.imported ?? []).map((m) => new Option(`${m.name} (${t('modelImported')})`, m.id)),
  ];
  if (value && !options.some((o) => o.value === value)) options.unshift(new Option(value, value));
  el.replaceChildren(...options);
  el.value = value ?? 'auto';
}

/** How fast the local chat model answered here, under its field. */
function showChatSpeed() {
  const el = $('chat-speed');
  if (!el) return;
  const speed = localModels.current().chat_speed;
  el.textContent = speed
    ? t('chatSpeed', { tps: speed.tokens_per_second.toFixed(1), ms: Math.round(speed.first_token_ms) })
    : t('chatSpeedUnknown');
}

/** Local voices: follow the language, espeak-ng's Korean and English, then the catalogue's neural voices. */
function fillLocalVoices(el, value) {
  const neural = localModels.current().models.filter((m) => m.kind === 'speech');
  const options = [
    new Option(t(neural.some((m) => m.installed) ? 'voiceAutoNeural' : 'voiceAuto'), 'auto'),
    new Option('espeak-ng 한국어', 'ko'),
    new Option('espeak-ng English', 'en-us'),
    ...neural.map((m) => new Option(m.installed ? m.name : `${m.name} (${t('modelNotInstalled')})`, m.id)),
  ];
  if (value && !options.some((o) => o.value === value)) options.unshift(new Option(value, value));
  el.replaceChildren(...options);
  el.value = value ?? 'auto';
}

function control([, field, kind, options]) {
  let el;
  if (kind === 'textarea') {
    el = document.createElement('textarea');
    el.rows = 4;
  } else if (kind === 'localModel') {
    el = document.createElement('select');
    fillLocalModels(el, store.current()[field]);
  } else if (kind === 'localVoice') {
    el = document.createElement('select');
    fillLocalVoices(el, store.current()[field]);
  } else if (kind === 'localChat') {
    el = document.createElement('select');
    fillLocalChat(el, store.current()[field]);
  } else if (kind === 'select' || kind === 'device') {
    el = document.createElement('select');
    const list = kind === 'device' ? [['', 'systemDefault'], ...(field === 'input_device' ? devices.inputs : devices.outputs).map((d) => [d.id ?? d.name, d.name])] : options;
    el.append(...list.map(([value, text]) => new Option(kind === 'device' && value ? text : label(text), value)));
  } else {
    el = document.createElement('input');
    el.type = { url: 'url', optionalUrl: 'url', checkbox: 'checkbox', range: 'range', number: 'number', tokens: 'number' }[kind] ?? 'text';
    if (kind === 'model') el.setAttribute('list', 'model-list');
    if (kind === 'range') Object.assign(el, { min: 0, max: 3, step: 1 });
    if (kind === 'number') Object.assign(el, { min: 200, max: 2000, step: 50 });
    if (kind === 'tokens') Object.assign(el, { min: 16, max: 4096, step: 16 });
  }
  el.id = `set-${field}`;
  el.name = field;
  el.setAttribute('aria-describedby', `err-${field}`);
  return el;
}

/** Builds the form from FIELDS, in the current language, with `s`'s values. */
export function render(s = store.current()) {
  const form = $('settings-form');
  const parts = [];
  const h = document.createElement('h2');
  h.textContent = t('settingsTitle');
  parts.push(h);
  let section = null;
  for (const spec of FIELDS) {
    if (spec[0] !== section) {
      section = spec[0];
      const h3 = document.createElement('h3');
      h3.textContent = t(section);
      parts.push(h3);
    }
    const field = spec[1];
    const row = document.createElement('div');
    row.className = `field ${spec[2]}`;
    const l = document.createElement('label');
    l.htmlFor = `set-${field}`;
    l.textContent = t(LABELS[field]);
    const input = control(spec);
    const value = s[field];
    if (input.type === 'checkbox') input.checked = !!value;
    else if (spec[2] === 'list') input.value = (value ?? []).join(', ');
    else {
      // A value set elsewhere (a hand-edited file, sori-cli) stays chosen rather than quietly replaced.
      if (spec[2] === 'select' && value && ![...input.options].some((o) => o.value === value)) input.add(new Option(value, value), 0);
      input.value = value ?? '';
    }
    const err = document.createElement('p');
    err.id = `err-${field}`;
    err.className = 'field-error';
    err.setAttribute('role', 'alert');
    row.append(l, input, err);
    if (field === 'speaker_setup') {
      const hint = document.createElement('p');
      hint.id = 'speaker-hint';
      hint.className = 'muted';
      row.append(hint);
      input.addEventListener('change', showSpeakerHint);
    }
    if (field === 'local_chat_model') {
      const speed = document.createElement('p');
      speed.id = 'chat-speed';
      speed.className = 'muted';
      row.append(speed);
    }
    parts.push(row);
  }
  const list = document.createElement('datalist');
  list.id = 'model-list';
  const hint = document.createElement('p');
  hint.id = 'models-hint';
  hint.className = 'muted';
  const actions = document.createElement('div');
  actions.className = 'row';
  const save = document.createElement('button');
  save.type = 'submit';
  save.id = 'settings-save';
  save.textContent = t('saveSettings');
  const result = document.createElement('p');
  result.id = 'settings-result';
  result.className = 'result';
  result.setAttribute('role', 'status');
  actions.append(save, result);
  form.replaceChildren(...parts, list, hint, actions);
  showModels();
  showChatSpeed();
  $('set-output_device')?.addEventListener('change', showSpeakerHint);
  showSpeakerHint();
}

/** What the speakers/headset choice does, and what "auto" found for the chosen output. */
function showSpeakerHint() {
  const el = $('speaker-hint');
  if (!el) return;
  const setup = $('set-speaker_setup')?.value ?? 'auto';
  const chosen = $('set-output_device')?.value || null;
  const output = devices.outputs.find((d) => (chosen ? (d.id ?? d.name) === chosen : d.is_default));
  let text = t(setup === 'headset' ? 'setupHeadsetHint' : 'setupSpeakersHint');
  if (setup === 'auto') {
    text = output
      ? t(output.worn ? 'setupAutoHeadset' : 'setupAutoSpeakers', { device: output.name })
      : t('setupAutoUnknown');
  }
  el.textContent = text;
}

/** The server's models as choices for the model fields, leaving what the user typed alone. */
function showModels() {
  $('model-list')?.replaceChildren(...(models ?? []).map((m) => new Option(m, m)));
  const hint = $('models-hint');
  if (hint) hint.textContent = models?.length ? t('modelsFromServer', { n: models.length }) : t('modelsFreeText');
}

function read() {
  const out = {};
  for (const [, field, kind] of FIELDS) {
    const el = $(`set-${field}`);
    if (kind === 'checkbox') out[field] = el.checked;
    else if (kind === 'range' || kind === 'number' || kind === 'tokens') out[field] = Number(el.value);
    else if (kind === 'device') out[field] = el.value || null;
    else if (kind === 'optionalUrl' || kind === 'optionalText') out[field] = el.value.trim() || null;
    else if (kind === 'list') out[field] = el.value.split(/[,\s]+/).filter(Boolean);
    else out[field] = el.value;
  }
  return out;
}

export function showFieldErrors(fields = []) {
  for (const el of document.querySelectorAll('#settings-form .field-error')) el.textContent = '';
  for (const el of document.querySelectorAll('#settings-form [aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const f of fields) {
    const err = $(`err-${f.field}`);
    if (err) err.textContent = fieldError(f);
    $(`set-${f.field}`)?.setAttribute('aria-invalid', 'true');
  }
  if (fields.length) $(`set-${fields[0].field}`)?.focus();
}

/** The server's models, when it lists them; the form keeps free text (and whatever is being typed) either way. */
export async function refreshModels() {
  try {
    models = await ipc.listModels();
  } catch {
    models = null;
  }
  showModels();
}

export async function refreshDevices() {
  try {
    devices = await ipc.audioDevices();
  } catch {
    devices = { inputs: [], outputs: [] };
  }
}

export function wire(onSaved) {
  store.onChange((s) => render(s));
  // New installs change the model choices in place, keeping whatever is being edited.
  localModels.onChange(() => {
    const el = $('set-local_stt_model');
    if (el) fillLocalModels(el, el.value);
    const voice = $('set-local_voice');
    if (voice) fillLocalVoices(voice, voice.value);
    const chat = $('set-local_chat_model');
    if (chat) fillLocalChat(chat, chat.value);
    showChatSpeed();
  });
  $('settings-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const saved = await store.save(read());
      showFieldErrors([]);
      $('settings-result').textContent = t('settingsSaved');
      onSaved?.(saved);
    } catch (e) {
      showFieldErrors(e?.fields ?? []);
      $('settings-result').textContent = e?.fields?.length ? t('settingsInvalid') : e?.message ?? String(e);
    }
  });
}

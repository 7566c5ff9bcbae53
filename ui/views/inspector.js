// The turn inspector: for each turn a latency waterfall (transcript, first
// token, first clause, TTS first byte, first audio, and on a tool turn the
// time its tools ran and the answer's first audio, end), the transcript, its
// tool calls (name, arguments, result, time, error), its errors, and a
// button that replays what the microphone captured.
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';

const $ = (id) => document.getElementById(id);
const MARKS = [
  ['transcript_ms', 'mTranscript'],
  ['llm_first_token_ms', 'mFirstToken'],
  ['first_chunk_ms', 'mFirstChunk'],
  ['tts_first_byte_ms', 'mTtsFirstByte'],
  ['ttfa_ms', 'mFirstAudio'],
  ['tool_ms', 'mTools'],
  ['answer_audio_ms', 'mAnswerAudio'],
  ['total_ms', 'mEnd'],
];
/** Marks only a turn with tools has. */
const TOOL_MARKS = new Set(['tool_ms', 'answer_audio_ms']);
const SHOWN = 160; // characters of arguments and results shown (the title has all)
const turns = new Map(); // id -> { user, spoken, errors, tools, ended }

const turn = (id) => {
  if (!turns.has(id)) turns.set(id, { user: '', spoken: true, errors: [], tools: new Map(), ended: null });
  return turns.get(id);
};

/** Follows the engine's events for the turns it shows. */
export function onEvent(e) {
  if (e.type === 'user_transcript') turn(e.turn).user = e.text;
  else if (e.type === 'error' && e.turn != null) turn(e.turn).errors.push(`${e.stage}: ${e.message}`);
  else if (e.type === 'tool_started') turn(e.turn).tools.set(e.id, { name: e.name, arguments: e.arguments, result: null, error: null, ms: null });
  else if (e.type === 'tool_finished') Object.assign(turn(e.turn).tools.get(e.id) ?? {}, { result: e.result, error: e.error ?? null, ms: e.ms });
  else if (e.type === 'turn_ended') {
    turn(e.turn).ended = e;
    render();
  }
}

/** A typed turn has no recording to replay. */
export function markTyped(id) {
  turn(id).spoken = false;
}

function waterfall(m) {
  const total = Math.max(m.total_ms || 0, 1);
  const ol = document.createElement('ol');
  ol.className = 'waterfall';
  for (const [key, label] of MARKS) {
    const ms = m[key];
    if (TOOL_MARKS.has(key) && ms == null) continue;
    const li = document.createElement('li');
    li.dataset.mark = key;
    const name = document.createElement('span');
    name.className = 'mark';
    name.textContent = t(label);
    const bar = document.createElement('span');
    bar.className = 'track';
    const fill = document.createElement('span');
    fill.className = 'fill';
    fill.style.width = ms == null ? '0' : `${Math.max(1, (ms / total) * 100)}%`;
    bar.append(fill);
    const value = document.createElement('span');
    value.className = 'ms';
    value.textContent = ms == null ? '—' : `${Math.round(ms)} ms`;
    li.append(name, bar, value);
    ol.append(li);
  }
  return ol;
}

const cut = (text) => (text && text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text ?? '');

function toolList(tools) {
  const ul = document.createElement('ul');
  ul.className = 'tool-calls';
  ul.setAttribute('aria-label', t('toolsTitle'));
  for (const [id, c] of tools) {
    const li = document.createElement('li');
    li.dataset.id = id;
    li.classList.toggle('failed', !!c.error);
    const name = Object.assign(document.createElement('code'), { className: 'tool-name', textContent: c.name });
    const args = Object.assign(document.createElement('code'), { className: 'tool-args', textContent: cut(c.arguments), title: c.arguments });
    const ms = Object.assign(document.createElement('span'), { className: 'ms', textContent: c.ms == null ? '…' : `${Math.round(c.ms)} ms` });
    const out = Object.assign(document.createElement('code'), { className: 'tool-result', textContent: cut(c.error ?? c.result), title: c.error ?? c.result ?? '' });
    li.append(name, args, ms, out);
    ul.append(li);
  }
  return ul;
}

export function render() {
  const list = $('turns');
  const done = [...turns.entries()].filter(([, v]) => v.ended).sort(([a], [b]) => b - a);
  $('inspector-empty').hidden = done.length > 0;
  list.replaceChildren(
    ...done.map(([id, v]) => {
      const li = document.createElement('li');
      li.className = 'turn';
      li.dataset.turn = id;
      const h = document.createElement('h3');
      h.textContent = t('turn', { n: id });
      const said = document.createElement('p');
      said.className = 'said';
      said.textContent = v.user;
      const m = v.ended.metrics;
      if (m.realtime) h.append(' ', Object.assign(document.createElement('span'), { className: 'badge realtime', textContent: t('modeRealtimeShort') }));
      li.append(h, said, waterfall(m));
      if (m.usage) {
        const u = m.usage;
        const p = Object.assign(document.createElement('p'), { className: 'usage muted' });
        p.textContent = t('usageLine', { input: u.input_tokens, output: u.output_tokens, audioIn: u.input_audio_tokens, audioOut: u.output_audio_tokens });
        li.append(p);
      }
      if (v.tools.size) li.append(toolList(v.tools));
      if (v.errors.length) {
        const errs = document.createElement('ul');
        errs.className = 'turn-errors';
        errs.setAttribute('aria-label', t('turnErrors'));
        errs.append(...v.errors.map((m) => Object.assign(document.createElement('li'), { textContent: m })));
        li.append(errs);
      }
      const replay = document.createElement('button');
      replay.type = 'button';
      replay.className = 'ghost replay';
      replay.textContent = t('replay');
      replay.disabled = !v.spoken;
      if (!v.spoken) replay.title = t('replayNone');
      replay.addEventListener('click', () => ipc.replayTurn(id).catch((e) => { replay.title = e?.message ?? String(e); }));
      li.append(replay);
      return li;
    }),
  );
}

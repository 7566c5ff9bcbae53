// The conversation: transcript (the reply streams in; an interrupted reply is
// marked where it was cut), push-to-talk (hold, or click to toggle), stop,
// and the typed fallback.
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as notices from './notices.js';

const $ = (id) => document.getElementById(id);
const turns = new Map(); // turn id -> { user, assistant, text }
let talking = false;
let hotkey = 'Ctrl+Shift+Space';
let handsFree = false;

function bubble(role) {
  const li = document.createElement('li');
  li.className = `msg ${role}`;
  const who = document.createElement('span');
  who.className = 'who';
  who.dataset.i18n = role === 'user' ? 'you' : 'sori';
  who.textContent = t(who.dataset.i18n);
  const body = document.createElement('p');
  body.className = 'body';
  li.append(who, body);
  $('transcript').append(li);
  $('empty').hidden = true;
  li.scrollIntoView?.({ block: 'end' });
  return li;
}

function entry(turn) {
  if (!turns.has(turn)) turns.set(turn, { user: null, assistant: null, text: '' });
  return turns.get(turn);
}

export function userSaid(turn, text) {
  const e = entry(turn);
  e.user ??= bubble('user');
  e.user.dataset.turn = turn;
  e.user.querySelector('.body').textContent = text;
}

export function replyDelta(turn, text) {
  const e = entry(turn);
  e.assistant ??= bubble('assistant');
  e.assistant.dataset.turn = turn;
  e.assistant.classList.add('streaming');
  e.text += text;
  e.assistant.querySelector('.body').textContent = e.text;
}

/** The turn is over: an interrupted reply shows what was heard, a cut mark, and the rest dimmed. */
export function turnEnded(ev) {
  const e = entry(ev.turn);
  if (!e.assistant) return;
  e.assistant.classList.remove('streaming');
  const body = e.assistant.querySelector('.body');
  if (ev.interrupted && ev.heard.length < e.text.length) {
    const heard = document.createElement('span');
    heard.textContent = ev.heard;
    const cut = document.createElement('span');
    cut.className = 'cut';
    cut.dataset.i18n = 'interrupted';
    cut.textContent = t('interrupted');
    const rest = document.createElement('span');
    rest.className = 'unheard';
    rest.textContent = e.text.slice(ev.heard.length);
    body.replaceChildren(heard, cut, rest);
    e.assistant.classList.add('interrupted');
  } else if (ev.interrupted) {
    e.assistant.classList.add('interrupted');
  }
  if (ev.incomplete) {
    e.assistant.classList.add('incomplete');
    e.assistant.title = t('incomplete');
  }
}

export function clearTranscript() {
  turns.clear();
  $('transcript').replaceChildren();
  $('empty').hidden = false;
}

/** Session facts that change what the controls say. */
export function configure({ hotkey: key, handsFree: hf }) {
  if (key !== undefined) hotkey = key || hotkey;
  if (hf !== undefined) handsFree = hf;
  render();
}

export function render() {
  $('ptt-label').textContent = t(talking ? 'pttTalking' : handsFree ? 'pttHandsFree' : 'pttHold');
  $('ptt').setAttribute('aria-pressed', String(talking));
  $('ptt-hint').textContent = t('pttHint', { key: hotkey });
  for (const who of document.querySelectorAll('#transcript .who')) who.textContent = t(who.dataset.i18n);
  for (const cut of document.querySelectorAll('#transcript .cut')) cut.textContent = t('interrupted');
}

async function press() {
  if (talking) return;
  talking = true;
  render();
  try {
    await ipc.pttPress();
  } catch (e) {
    talking = false;
    render();
    if (e?.kind === 'no_microphone') notices.forWarning({ code: 'no_microphone', message: e.message });
    else notices.show({ id: 'ptt', kind: 'error', text: e?.message ?? String(e) });
  }
}

async function release() {
  if (!talking) return;
  talking = false;
  render();
  await ipc.pttRelease().catch(() => {});
}

/** Hold to talk; a short click (under 250 ms) toggles instead. */
function wirePtt() {
  const ptt = $('ptt');
  let downAt = 0;
  let toggled = false;
  const down = (event) => {
    event.preventDefault();
    if (toggled) {
      toggled = false;
      release();
      return;
    }
    downAt = performance.now();
    press();
  };
  const up = () => {
    if (!talking || toggled) return;
    if (performance.now() - downAt < 250) toggled = true;
    else release();
  };
  ptt.addEventListener('pointerdown', down);
  ptt.addEventListener('pointerup', up);
  ptt.addEventListener('pointercancel', up);
  ptt.addEventListener('keydown', (event) => {
    if ((event.key === ' ' || event.key === 'Enter') && !event.repeat) down(event);
  });
  ptt.addEventListener('keyup', (event) => {
    if (event.key === ' ' || event.key === 'Enter') up();
  });
  // The shortcut also works inside the window (where the system has no global one).
  window.addEventListener('keydown', (event) => {
    if (event.ctrlKey && event.shiftKey && event.code === 'Space' && !event.repeat) {
      event.preventDefault();
      press();
    }
  });
  window.addEventListener('keyup', (event) => {
    if (event.code === 'Space' && talking && !toggled) release();
  });
}

export function wire(onAsked = () => {}) {
  wirePtt();
  $('stop').addEventListener('click', () => ipc.stop().catch((e) => notices.show({ id: 'stop', kind: 'error', text: e?.message ?? String(e) })));
  $('new-conversation').addEventListener('click', async () => {
    await ipc.newConversation().catch(() => {});
    clearTranscript();
  });
  $('ask-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('ask-input');
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    try {
      onAsked(await ipc.ask(text, $('speak-typed').checked));
    } catch (e) {
      input.value = text; // nothing typed is lost
      notices.show({ id: 'ask', kind: 'error', text: e?.message ?? String(e) });
    }
  });
}

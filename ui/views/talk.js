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
let heldByKey = false;

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
  // In Realtime mode the user's words come once the server has them, often
  // after the reply began: they still go above it.
  if (!e.user) {
    e.user = bubble('user');
    if (e.assistant) e.assistant.before(e.user);
  }
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

/**
 * The turn is over: an interrupted reply shows what was heard, a cut mark
 * exactly where the engine says it was cut (`heard_chars`, in characters),
 * and the rest dimmed; an incomplete one says why.
 */
export function turnEnded(ev) {
  const e = entry(ev.turn);
  if (!e.assistant) return;
  e.assistant.classList.remove('streaming');
  const body = e.assistant.querySelector('.body');
  const chars = [...e.text];
  const cutAt = ev.heard_chars ?? [...(ev.heard ?? '')].length;
  if (ev.interrupted && cutAt < chars.length) {
    const heard = document.createElement('span');
    heard.textContent = chars.slice(0, cutAt).join('');
    const cut = document.createElement('span');
    cut.className = 'cut';
    cut.dataset.i18n = 'interrupted';
    cut.textContent = t('interrupted');
    const rest = document.createElement('span');
    rest.className = 'unheard';
    rest.textContent = chars.slice(cutAt).join('');
    body.replaceChildren(heard, cut, rest);
    e.assistant.classList.add('interrupted');
  } else if (ev.interrupted) {
    e.assistant.classList.add('interrupted');
  }
  if (ev.incomplete) {
    e.assistant.classList.add('incomplete');
    e.assistant.dataset.reason = ev.reason ?? '';
    const why = document.createElement('span');
    why.className = 'why';
    why.dataset.i18n = ev.reason ? `incomplete_${ev.reason}` : 'incomplete';
    why.textContent = t(why.dataset.i18n);
    e.assistant.querySelector('.why')?.remove();
    e.assistant.append(why);
    e.assistant.title = why.textContent;
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
  for (const why of document.querySelectorAll('#transcript .why')) why.textContent = t(why.dataset.i18n);
}

const MODIFIERS = { ctrl: 'ctrlKey', control: 'ctrlKey', shift: 'shiftKey', alt: 'altKey', option: 'altKey', super: 'metaKey', meta: 'metaKey', cmd: 'metaKey', command: 'metaKey' };

/**
 * The configured accelerator ("Ctrl+Shift+Space", "Alt+F9", "CmdOrCtrl+K")
 * as the modifiers it needs and the `KeyboardEvent.code` of its key, as the
 * global shortcut reads it; `null` when it cannot be read.
 */
export function parseAccelerator(accelerator) {
  const parts = String(accelerator ?? '').split('+').map((p) => p.trim()).filter(Boolean);
  const key = parts.pop();
  if (!key) return null;
  const mods = { ctrlKey: false, shiftKey: false, altKey: false, metaKey: false };
  for (const p of parts) {
    const m = p.toLowerCase();
    if (m === 'commandorcontrol' || m === 'cmdorctrl') mods[navigator.platform?.startsWith('Mac') ? 'metaKey' : 'ctrlKey'] = true;
    else if (MODIFIERS[m]) mods[MODIFIERS[m]] = true;
    else return null;
  }
  let code;
  if (/^[a-z]$/i.test(key)) code = `Key${key.toUpperCase()}`;
  else if (/^[0-9]$/.test(key)) code = `Digit${key}`;
  else if (/^f([1-9]|1[0-9]|2[0-4])$/i.test(key)) code = key.toUpperCase();
  // Already a key code (KeyA, Digit1, Numpad5, BracketLeft, …), as the global shortcut also reads them.
  else if (/^(Key[A-Z]|Digit[0-9]|Numpad\w+|Bracket(Left|Right)|Backslash|Escape|Backspace|Delete)$/.test(key)) code = key;
  else code = { escape: 'Escape', esc: 'Escape', backspace: 'Backspace', delete: 'Delete', '[': 'BracketLeft', ']': 'BracketRight', '\\': 'Backslash', plus: 'Equal',  space: 'Space', enter: 'Enter', return: 'Enter', tab: 'Tab', backquote: 'Backquote', '`': 'Backquote', minus: 'Minus', '-': 'Minus', equal: 'Equal', '=': 'Equal', comma: 'Comma', ',': 'Comma', period: 'Period', '.': 'Period', slash: 'Slash', '/': 'Slash', semicolon: 'Semicolon', ';': 'Semicolon', quote: 'Quote', insert: 'Insert', home: 'Home', end: 'End', pageup: 'PageUp', pagedown: 'PageDown', up: 'ArrowUp', down: 'ArrowDown', left: 'ArrowLeft', right: 'ArrowRight', arrowup: 'ArrowUp', arrowdown: 'ArrowDown', arrowleft: 'ArrowLeft', arrowright: 'ArrowRight' }[key.toLowerCase()];
  return code ? { ...mods, code } : null;
}

/** Whether a key-down is the whole accelerator (all its modifiers, no others). */
const isShortcut = (event, shortcut) =>
  !!shortcut && event.code === shortcut.code && ['ctrlKey', 'shiftKey', 'altKey', 'metaKey'].every((m) => event[m] === shortcut[m]);

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
  // The configured shortcut also works inside the window (where the system
  // has no global one); letting go of its key, or of one of its modifiers
  // (some systems never report the key's own release while Cmd is down), or
  // leaving the window, sends.
  const MODIFIER_CODES = { ctrlKey: /^Control/, shiftKey: /^Shift/, altKey: /^Alt/, metaKey: /^(Meta|OS)/ };
  const letGo = () => {
    if (!heldByKey) return;
    heldByKey = false;
    if (talking && !toggled) release();
  };
  window.addEventListener('keydown', (event) => {
    const shortcut = parseAccelerator(hotkey);
    const typing = event.target instanceof HTMLElement && event.target.matches('input, textarea, select');
    const bare = shortcut && !shortcut.ctrlKey && !shortcut.shiftKey && !shortcut.altKey && !shortcut.metaKey;
    if (isShortcut(event, shortcut) && !event.repeat && !(bare && typing)) {
      event.preventDefault();
      heldByKey = true;
      press();
    }
  });
  window.addEventListener('keyup', (event) => {
    const shortcut = parseAccelerator(hotkey);
    if (!shortcut) return;
    const modifier = Object.entries(MODIFIER_CODES).some(([m, re]) => shortcut[m] && re.test(event.code));
    if (event.code === shortcut.code || modifier) letGo();
  });
  window.addEventListener('blur', letGo);
}

export function wire(onAsked = () => {}, canAsk = () => true) {
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
    if (!text || !canAsk()) return;
    input.value = '';
    try {
      onAsked(await ipc.ask(text, $('speak-typed').checked));
    } catch (e) {
      input.value = text; // nothing typed is lost
      notices.show({ id: 'ask', kind: 'error', text: e?.message ?? String(e) });
    }
  });
}

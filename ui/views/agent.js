// The customer-service agent in the conversation: the tools it is using
// (a line under the question while they run), the request type of each
// question (a chip), the card that asks the user to confirm a call that
// changes something (answered by a click or by saying yes or no), and the
// customer picker. The engine decides all of it; this only shows it.
import { t } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as notices from './notices.js';
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
const cards = new Map(); // call id -> card element
const heldByTurn = new Map(); // turn -> the confirmation_asked event, shown when the turn ends
let onAsked = () => {};

const toolName = (name) => (t(`tool_${name}`) === `tool_${name}` ? name : t(`tool_${name}`));

function userBubble(turn) {
  return document.querySelector(`#transcript li.msg.user[data-turn="${turn}"]`);
}

function chip(turn, type) {
  const bubble = userBubble(turn);
  if (!bubble) return;
  bubble.querySelector('.request-type')?.remove();
  const span = document.createElement('span');
  span.className = 'chip request-type';
  span.dataset.type = type;
  span.dataset.i18n = `rt_${type}`;
  span.textContent = t(span.dataset.i18n);
  bubble.querySelector('.who').after(span);
}

/** The line that says which tools run for a turn, made when the first starts. */
function activity(turn) {
  let li = document.querySelector(`#transcript li.tools[data-turn="${turn}"]`);
  if (!li) {
    li = document.createElement('li');
    li.className = 'msg tools';
    li.dataset.turn = turn;
    $('transcript').append(li);
  }
  return li;
}

function toolStarted(e) {
  const item = document.createElement('span');
  item.className = 'tool running';
  item.dataset.id = e.id;
  item.dataset.name = e.name;
  item.textContent = t('toolRunning', { tool: toolName(e.name) });
  activity(e.turn).append(item);
}

const toolItem = (id) => document.querySelector(`#transcript .tool[data-id="${CSS.escape(id)}"]`);

/** A call held for the user's yes: it has not run, whatever its stand-in result says. */
function toolHeld(e) {
  const item = toolItem(e.id);
  if (!item) return;
  item.classList.remove('running');
  item.dataset.held = 'true';
  item.textContent = t('toolWaiting', { tool: toolName(e.name) });
}

function toolFinished(e) {
  const item = toolItem(e.id);
  if (!item || item.dataset.held) return;
  item.classList.remove('running');
  item.classList.toggle('failed', !!e.error);
  item.textContent = t(e.error ? 'toolFailed' : 'toolDone', { tool: toolName(e.name), ms: Math.round(e.ms) });
  if (e.error) item.title = e.error;
}

function summaryOf(e) {
  try {
    const args = JSON.parse(e.arguments || '{}');
    return args.summary ?? Object.values(args).filter((v) => typeof v === 'string').join(' · ');
  } catch {
    return e.arguments;
  }
}

function card(e) {
  const li = document.createElement('li');
  li.className = 'confirm-card';
  li.dataset.id = e.id;
  li.dataset.name = e.name;
  li.setAttribute('role', 'group');
  const title = document.createElement('strong');
  title.className = 'confirm-title';
  const summary = document.createElement('p');
  summary.className = 'confirm-summary';
  summary.textContent = summaryOf(e);
  const hint = document.createElement('p');
  hint.className = 'muted confirm-hint';
  const yes = document.createElement('button');
  yes.type = 'button';
  yes.className = 'confirm-yes';
  const no = document.createElement('button');
  no.type = 'button';
  no.className = 'ghost confirm-no';
  const answer = async (approve) => {
    yes.disabled = no.disabled = true;
    try {
      onAsked(await ipc.answerConfirmation(approve, t(approve ? 'confirmYesWords' : 'confirmNoWords'), $('speak-typed')?.checked ?? true));
    } catch (err) {
      yes.disabled = no.disabled = false;
      notices.show({ id: 'confirm', kind: 'error', text: err?.message ?? String(err) });
    }
  };
  yes.addEventListener('click', () => answer(true));
  no.addEventListener('click', () => answer(false));
  const buttons = document.createElement('div');
  buttons.className = 'confirm-buttons';
  buttons.append(yes, no);
  li.append(title, summary, hint, buttons);
  cards.set(e.id, li);
  renderCard(li);
  $('transcript').append(li);
  li.scrollIntoView?.({ block: 'end' });
}

function renderCard(li) {
  const settled = li.dataset.settled;
  li.querySelector('.confirm-title').textContent = t('confirmTitle', { tool: toolName(li.dataset.name) });
  li.querySelector('.confirm-hint').textContent = t(settled ? `confirm_${settled}` : 'confirmHint');
  li.querySelector('.confirm-yes').textContent = t('confirmYes');
  li.querySelector('.confirm-no').textContent = t('confirmNo');
}

function settle(e) {
  const li = cards.get(e.id);
  if (!li) return;
  li.dataset.settled = e.approved === true ? 'approved' : e.approved === false ? 'declined' : 'dropped';
  for (const b of li.querySelectorAll('button')) b.disabled = true;
  renderCard(li);
}

/** Follows the engine's events. */
export function onEvent(e) {
  switch (e.type) {
    case 'request_classified': chip(e.turn, e.request_type); break;
    case 'tool_started': toolStarted(e); break;
    case 'tool_finished': toolFinished(e); break;
    // Shown once the turn's question to the user has been said.
    case 'confirmation_asked':
      toolHeld(e);
      heldByTurn.set(e.turn, e);
      break;
    case 'confirmation_settled': settle(e); break;
    case 'turn_ended':
      if (heldByTurn.has(e.turn)) card(heldByTurn.get(e.turn));
      heldByTurn.delete(e.turn);
      break;
    default: break;
  }
}

/** The customer picker: the shop's customers, or why they cannot be listed. */
export async function refreshCustomers() {
  const picker = $('customer-picker');
  const on = store.current().agent_tools !== false;
  $('customer-field').hidden = !on;
  if (!on) return;
  let customers = [];
  try {
    customers = await ipc.listCustomers();
    notices.clear('customers');
  } catch (err) {
    notices.show({ id: 'customers', kind: 'error', text: t('customersFailed') + (err?.message ?? String(err)), action: { label: 'openSettings', run: 'settings' } });
  }
  const none = Object.assign(document.createElement('option'), { value: '', textContent: t('customerNone') });
  none.dataset.i18n = 'customerNone';
  const options = customers.map((c) => Object.assign(document.createElement('option'), { value: c.id, textContent: `${c.name} · ${c.tier} (${c.id})` }));
  picker.replaceChildren(none, ...options);
  picker.value = store.current().customer ?? '';
}

export function render() {
  for (const el of document.querySelectorAll('#transcript .request-type')) el.textContent = t(el.dataset.i18n);
  for (const li of cards.values()) renderCard(li);
}

export function wire(asked = () => {}) {
  onAsked = asked;
  $('customer-picker').addEventListener('change', async (event) => {
    const id = event.target.value || null;
    try {
      await store.save({ customer: id });
    } catch (err) {
      event.target.value = store.current().customer ?? '';
      notices.show({ id: 'customers', kind: 'error', text: err?.message ?? String(err) });
    }
  });
  // Only the settings that change who can be picked read the shop again.
  let shop = null;
  store.onChange((s) => {
    const now = JSON.stringify([s.agent_tools, s.shop_database]);
    if (now !== shop) {
      shop = now;
      refreshCustomers();
    } else {
      $('customer-picker').value = s.customer ?? '';
    }
  });
}

// Past conversations: list (with how many questions of each request type,
// and the totals over all of them), open (read, or continue talking),
// export as Markdown or JSON (written by the app into the Downloads folder,
// and the path shown), delete.
import { t, language } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
let onContinue = () => {};

function button(label, run, cls = 'ghost') {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = t(label);
  b.addEventListener('click', run);
  return b;
}

async function exportAs(c, format) {
  const result = $('history-result');
  try {
    result.textContent = t('exportedTo', { path: await ipc.exportConversation(c.id, format) });
  } catch (e) {
    result.textContent = t('exportFailed') + (e?.message ?? String(e));
  }
}

async function open(c) {
  const detail = $('history-detail');
  const records = await ipc.openConversation(c.id);
  const h = document.createElement('h3');
  h.textContent = c.title;
  const ol = document.createElement('ol');
  ol.className = 'transcript';
  for (const r of records) {
    for (const [role, text] of [['user', r.user], ['assistant', r.assistant]]) {
      const li = document.createElement('li');
      li.className = `msg ${role}${role === 'assistant' && r.interrupted ? ' interrupted' : ''}`;
      li.textContent = text;
      ol.append(li);
    }
  }
  const cont = button('continueConv', async () => {
    await ipc.resumeConversation(c.id);
    onContinue(records);
  }, '');
  detail.replaceChildren(h, ol, cont);
  detail.hidden = false;
}

export async function refresh() {
  const list = $('conversations');
  const empty = $('history-empty');
  if (store.current().history_enabled === false) {
    empty.textContent = t('historyOff');
  }
  let items = [];
  try {
    items = await ipc.listConversations();
  } catch (e) {
    empty.textContent = e?.message ?? String(e);
    empty.hidden = false;
    list.replaceChildren();
    return;
  }
  empty.hidden = items.length > 0 && store.current().history_enabled !== false;
  if (!items.length && store.current().history_enabled !== false) empty.textContent = t('historyEmpty');
  const date = new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' });
  const totals = {};
  for (const c of items) for (const [k, n] of Object.entries(c.request_types ?? {})) totals[k] = (totals[k] ?? 0) + n;
  const counts = $('history-counts');
  counts.hidden = Object.keys(totals).length === 0;
  counts.replaceChildren(Object.assign(document.createElement('span'), { textContent: t('requestCounts') }), ...typeChips(totals));
  list.replaceChildren(
    ...items.map((c) => {
      const li = document.createElement('li');
      li.dataset.id = c.id;
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = c.title;
      const meta = document.createElement('span');
      meta.className = 'muted';
      meta.textContent = `${date.format(new Date(c.last_ms))} · ${t('turns', { n: c.turns })}`;
      li.append(
        title, meta, ...typeChips(c.request_types ?? {}),
        button('open', () => open(c)),
        button('exportMd', () => exportAs(c, 'markdown')),
        button('exportJson', () => exportAs(c, 'json')),
        button('delete', async () => {
          if (!window.confirm(t('confirmDelete'))) return;
          await ipc.deleteConversation(c.id);
          $('history-detail').hidden = true;
          refresh();
        }, 'ghost danger'),
      );
      return li;
    }),
  );
}

const ORDER = ['order_status', 'general_inquiry', 'complaint', 'other'];

/** One chip per request type that occurs: its name and how many. */
function typeChips(counts) {
  return ORDER.filter((k) => counts[k]).map((k) => {
    const chip = Object.assign(document.createElement('span'), { className: 'chip request-type', textContent: `${t(`rt_${k}`)} ${counts[k]}` });
    chip.dataset.type = k;
    return chip;
  });
}

export function wire(continued) {
  onContinue = continued;
}

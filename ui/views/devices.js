// The sound devices the audio system reports, defaults marked.
import { t } from '../i18n.js';
import { audioDevices } from '../ipc.js';

const $ = (id) => document.getElementById(id);

function renderList(list, devices) {
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

export async function refresh() {
  const error = $('devices-error');
  try {
    const devices = await audioDevices();
    error.hidden = true;
    renderList($('input-list'), devices.inputs);
    renderList($('output-list'), devices.outputs);
  } catch (e) {
    error.textContent = t('devicesFailed') + (e?.message ?? String(e));
    error.hidden = false;
  }
}

export function wire() {
  $('refresh-devices').addEventListener('click', refresh);
}

// The settings as the engine last saved them, shared by the views that edit
// parts of them (voice, settings). Saving goes through the engine, which
// validates; nothing is kept here that the engine refused.
import * as ipc from '../ipc.js';

let settings = {};
const listeners = [];

export const current = () => settings;

export async function load() {
  const view = await ipc.getSettings();
  settings = view.settings;
  listeners.forEach((f) => f(settings));
  return view;
}

/** Saves `changes` over the current settings; throws the engine's error (with field errors). */
export async function save(changes) {
  const saved = await ipc.saveSettings({ ...settings, ...changes });
  settings = saved;
  listeners.forEach((f) => f(settings));
  return saved;
}

export const onChange = (f) => listeners.push(f);

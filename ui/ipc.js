// The only module that knows Tauri exists. Everything else imports these
// functions, so the UI also runs in a plain browser with a stand-in ipc.js.

const tauri = () => {
  const t = window.__TAURI__;
  if (!t) throw new Error('Sori must run inside its app window');
  return t.core;
};

/** @returns {Promise<{name: string, version: string, engine_version: string}>} */
export const appInfo = () => tauri().invoke('app_info');

/** @returns {Promise<{host: string, inputs: Device[], outputs: Device[]}>} */
export const audioDevices = () => tauri().invoke('audio_devices');

/** What the UI may know about the key: never the key itself. */
export const keyStatus = () => tauri().invoke('key_status');

/** Hands a key to the keychain (or, if chosen, this session's memory). */
export const setKey = (key, sessionOnly) => tauri().invoke('set_key', { key, sessionOnly });

export const clearKey = () => tauri().invoke('clear_key');

/** @returns {Promise<{result: 'works'|'rejected'|'unreachable'|'failed', models?: number, message?: string}>} */
export const checkKey = () => tauri().invoke('check_key');

/** @returns {Promise<{settings: object, warnings: string[]}>} */
export const getSettings = () => tauri().invoke('get_settings');

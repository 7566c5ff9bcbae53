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

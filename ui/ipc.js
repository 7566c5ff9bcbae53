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

/** What the UI may know about the Google Cloud key: its kind and label, never the key. */
export const googleKeyStatus = () => tauri().invoke('google_key_status');
/** Hands an API key or a service account's key-file text (never a path) to the keychain. */
export const setGoogleKey = (key, sessionOnly) => tauri().invoke('set_google_key', { key, sessionOnly });
export const clearGoogleKey = () => tauri().invoke('clear_google_key');
/** @returns {Promise<{result: 'works'|'rejected'|'unreachable'|'failed', models?: number, message?: string}>} */
export const checkGoogleKey = () => tauri().invoke('check_google_key');
/** @returns {Promise<{name: string, language_codes: string[], gender: string, natural_sample_rate: number}[]>} Google's voices */
export const googleVoices = (language) => tauri().invoke('google_voices', { language });

/** @returns {Promise<{settings: object, warnings: string[]}>} */
export const getSettings = () => tauri().invoke('get_settings');

/** Saves settings; invalid ones fail with `{kind: 'invalid', fields: [{field, message}]}`. */
export const saveSettings = (settings) => tauri().invoke('save_settings', { settings });

/**
 * Starts (or rejoins) the conversation. Engine events arrive in order on a
 * channel of this window: `onEvent({type: 'status' | 'level' | …})`.
 * @returns {Promise<{microphone: boolean, speaker: boolean, hotkey: string|null, hotkey_error: string|null}>}
 */
export function startSession(onEvent) {
  const channel = new (window.__TAURI__.core.Channel)();
  channel.onmessage = onEvent;
  return tauri().invoke('start_session', { onEvent: channel });
}

/** A typed question; resolves to its turn id. */
export const ask = (text, speak) => tauri().invoke('ask', { text, speak });
/** The user's click on a confirmation card; resolves to the turn id of the answer. */
export const answerConfirmation = (approve, text, speak) => tauri().invoke('answer_confirmation', { approve, text, speak });
/** @returns {Promise<{id: string, name: string, tier: string, language: string}[]>} the shop's customers */
export const listCustomers = () => tauri().invoke('list_customers');
export const stop = () => tauri().invoke('stop');
export const pttPress = () => tauri().invoke('ptt_press');
export const pttRelease = () => tauri().invoke('ptt_release');
export const newConversation = () => tauri().invoke('new_conversation');
export const resumeConversation = (id) => tauri().invoke('resume_conversation', { id });
/** Plays what the microphone captured for a turn; resolves to its length in seconds. */
export const replayTurn = (turn) => tauri().invoke('replay_turn', { turn });
export const previewVoice = ({ text, model, voice, style, speed, pitch }) => tauri().invoke('preview_voice', { text, model, voice, style, speed, pitch });
/** @returns {Promise<string[]>} the server's model ids */
export const listModels = () => tauri().invoke('list_models');
/** @returns {Promise<string[]>} */
export const listVoices = (model) => tauri().invoke('list_voices', { model });

/** @returns {Promise<{dir: string, espeak: boolean, models: object[], imported: object[], suggested_chat: string, active_chat: ?string, chat_speed: ?object}>} the models Sori offers and which are here */
export const localModels = () => tauri().invoke('local_models');
/** Installs a model; `onProgress({id, done, total})` about ten times a second. */
export function installModel(id, onProgress) {
  const channel = new (window.__TAURI__.core.Channel)();
  channel.onmessage = onProgress;
  return tauri().invoke('install_model', { id, onProgress: channel });
}
export const cancelModelInstall = (id) => tauri().invoke('cancel_model_install', { id });
export const removeModel = (id) => tauri().invoke('remove_model', { id });
/** Copies a GGUF chat model file into Sori's models. @returns {Promise<string>} its id */
export const importGguf = (path) => tauri().invoke('import_gguf', { path });
/** @returns {Promise<{kind: string, base_url: string, models: string[]}[]>} chat servers running on this computer */
export const localServers = () => tauri().invoke('local_servers');

export const listConversations = () => tauri().invoke('list_conversations');
export const openConversation = (id) => tauri().invoke('open_conversation', { id });
/** @returns {Promise<string>} the conversation as Markdown or JSON text */
export const exportConversation = (id, format) => tauri().invoke('export_conversation', { id, format });
export const deleteConversation = (id) => tauri().invoke('delete_conversation', { id });

/** @returns {Promise<{name: string, config: object, status: {state: 'off'|'connecting'|'ready'|'failed', tools?: object[], error?: string}}[]>} */
export const mcpServers = () => tauri().invoke('mcp_servers');
/** Replaces the MCP servers with a pasted `mcpServers` block (values go to the keychain). */
export const saveMcpServers = (text) => tauri().invoke('save_mcp_servers', { text });
export const setMcpTool = (server, tool, enabled) => tauri().invoke('set_mcp_tool', { server, tool, enabled });

// Messages users can act on: what happened, and a button for what to do.
import { t } from '../i18n.js';

const ERROR_TEXT = { auth: 'errAuth', rate_limited: 'errRateLimited', quota: 'errQuota', bad_request: 'errBadRequest', network: 'errNetwork', timeout: 'errTimeout', server: 'errServer', bad_response: 'errBadResponse', local: 'errLocal' };

let actions = {};
/** `go(name)` handlers for the actions notices offer (open settings, …). */
export function setActions(a) {
  actions = a;
}

/**
 * Shows a notice; one per `id` (a newer one replaces it).
 * @param {{id: string, kind?: 'error'|'warning'|'info', text: string, action?: {label: string, run: string}, countdown?: number}} n
 */
export function show(n) {
  const box = document.getElementById('notices');
  box.querySelector(`[data-id="${n.id}"]`)?.remove();
  const el = document.createElement('div');
  el.className = `notice ${n.kind ?? 'warning'}`;
  el.dataset.id = n.id;
  el.setAttribute('role', n.kind === 'error' ? 'alert' : 'status');
  const text = document.createElement('p');
  text.textContent = n.text;
  el.append(text);
  if (n.action) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'action';
    b.textContent = t(n.action.label);
    b.addEventListener('click', () => {
      el.remove();
      actions[n.action.run]?.();
    });
    el.append(b);
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'ghost close';
  close.textContent = '×';
  close.setAttribute('aria-label', t('dismiss'));
  close.addEventListener('click', () => el.remove());
  el.append(close);
  box.append(el);
  if (n.countdown) {
    let left = n.countdown;
    const tick = setInterval(() => {
      left -= 1;
      if (left <= 0 || !el.isConnected) {
        clearInterval(tick);
        el.remove();
      } else {
        text.textContent = t('retryingIn', { n: left });
      }
    }, 1000);
  }
  return el;
}

export const clear = (id) => document.querySelector(`#notices [data-id="${id}"]`)?.remove();

/** The notice for an engine `error` event. */
export function forError(e) {
  const kind = e.error?.kind;
  const base = t(ERROR_TEXT[kind] ?? 'errServer');
  const text = `${base} (${e.message})`;
  if (kind === 'auth' || kind === 'local') return show({ id: 'error', kind: 'error', text, action: { label: 'openSettings', run: 'settings' } });
  return show({ id: 'error', kind: 'error', text });
}

/** The notice for an engine `retrying` event: "retrying in N s". */
export function forRetry(e) {
  const seconds = Math.max(1, Math.ceil(e.wait_ms / 1000));
  return show({ id: 'retry', kind: 'info', text: t('retryingIn', { n: seconds }), countdown: seconds });
}

/** Warnings worded by the window, by their stable code; others keep the engine's words. */
const WARNING_TEXT = {
  microphone_back: (w) => t('micBack', { device: w.device ?? '' }),
  speaker_lost: (w) => (w.device ? t('speakerLost', { device: w.device }) : t('speakerLostNone')),
  speaker_back: (w) => t('speakerBack', { device: w.device ?? '' }),
  no_speaker: () => t('noSpeaker'),
  no_speech: () => t('noSpeech'),
  history_not_saved: () => t('historyNotSaved'),
  keychain_unreadable: () => t('keychainUnreadable'),
};

/** The notice for a `warning` event, by its stable code. */
export function forWarning(w) {
  if (w.code === 'no_microphone' || w.code === 'microphone_lost') {
    return show({ id: 'mic', text: t(w.code === 'no_microphone' ? 'noMicrophone' : 'micLost'), action: { label: 'chooseMicrophone', run: 'settings' } });
  }
  const text = WARNING_TEXT[w.code]?.(w) ?? w.message;
  if (w.code === 'microphone_back') {
    clear('mic');
    return show({ id: 'mic', kind: 'info', text });
  }
  if (w.code === 'no_speech') return show({ id: 'no-speech', kind: 'info', text });
  if (w.code === 'local_model') return show({ id: 'local-model', text: `${t('localModel')} (${w.message})`, action: { label: 'openSettings', run: 'settings' } });
  if (w.code === 'tools') return show({ id: 'tools', text: `${t('toolsOff')} (${w.message})`, action: { label: 'openSettings', run: 'settings' } });
  const id = w.code.startsWith('speaker_') ? 'speaker' : w.code;
  return show({ id, kind: 'info', text });
}

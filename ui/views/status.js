// The status pill and the live microphone level in the top bar.
import { t } from '../i18n.js';

const KEYS = { idle: 'statusIdle', listening: 'statusListening', transcribing: 'statusTranscribing', thinking: 'statusThinking', speaking: 'statusSpeaking', error: 'statusError' };
let phase = 'idle';

/** The engine's phase; a failed turn stays shown as an error until something new starts. */
export function setPhase(next) {
  if (next === 'idle' && phase === 'error') return;
  phase = KEYS[next] ? next : 'idle';
  render();
}

let link = { state: 'off' };
let limits = [];

export function render() {
  const el = document.getElementById('status');
  el.dataset.state = phase;
  el.textContent = t(KEYS[phase]);
  renderLink();
}

/** Realtime mode's connection (`realtime` events), beside the phase; hidden when the mode is off. */
export function setLink(e) {
  // A new session after a loss says what it was given back.
  const restored = e.state === 'connected' && link.state === 'reconnecting' && e.context_turns !== undefined;
  link = { ...e, restored };
  renderLink();
}

/** The provider's rate limits (`rate_limits` events), in the pill's tooltip. */
export function setLimits(list) {
  limits = list ?? [];
  renderLink();
}

function renderLink() {
  const el = document.getElementById('link');
  if (!el) return;
  el.hidden = link.state === 'off';
  el.dataset.state = link.state;
  const key = { connecting: 'linkConnecting', connected: 'linkConnected', reconnecting: 'linkReconnecting', failed: 'linkFailed' }[link.state];
  if (!key) return;
  el.textContent = link.restored ? t('linkRestored', { n: link.context_turns }) : t(key, { attempt: link.attempt ?? 0 });
  const why = link.state === 'failed' || link.state === 'reconnecting' ? link.message ?? '' : '';
  const left = limits.map((l) => `${l.name} ${l.remaining}/${l.limit}`).join(', ');
  el.title = [why, left && t('rateLimits', { limits: left })].filter(Boolean).join('\n');
}

/** dBFS to a 0..1 bar over the -60..0 dB range people hear as quiet..loud. */
export function setLevel(dbfs, speech) {
  const meter = document.getElementById('level');
  const db = Math.max(-60, Math.min(0, Number.isFinite(dbfs) ? dbfs : -60));
  meter.setAttribute('aria-valuenow', db.toFixed(0));
  meter.dataset.speech = String(!!speech);
  document.getElementById('level-fill').style.width = `${((db + 60) / 60) * 100}%`;
}

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

export function render() {
  const el = document.getElementById('status');
  el.dataset.state = phase;
  el.textContent = t(KEYS[phase]);
}

/** dBFS to a 0..1 bar over the -60..0 dB range people hear as quiet..loud. */
export function setLevel(dbfs, speech) {
  const meter = document.getElementById('level');
  const db = Math.max(-60, Math.min(0, Number.isFinite(dbfs) ? dbfs : -60));
  meter.setAttribute('aria-valuenow', db.toFixed(0));
  meter.dataset.speech = String(!!speech);
  document.getElementById('level-fill').style.width = `${((db + 60) / 60) * 100}%`;
}

// Voice and style: the provider's voices, style presets (Korean and English)
// or free text, speed, and a preview that speaks a sample sentence.
import { t, fieldError, language, STRINGS } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';
import * as localModels from './models.js';

const $ = (id) => document.getElementById(id);
const PRESETS = ['presetCalm', 'presetWarm', 'presetBrisk'];

/** The espeak-ng voices on this computer, after "follow the reply's language". */
const ESPEAK_VOICES = ['auto', 'ko', 'en-us'];
const local = () => store.current().tts_provider === 'local';
/** Installed neural voices (Piper), by id. */
const neuralVoices = () => localModels.current().models.filter((m) => m.kind === 'speech' && m.installed);

async function fillVoices(model, chosen) {
  let voices = [];
  if (local()) {
    voices = [...ESPEAK_VOICES, ...neuralVoices().map((m) => m.id)];
  } else {
    try {
      voices = await ipc.listVoices(model);
    } catch {
      voices = [];
    }
  }
  if (chosen && !voices.includes(chosen)) voices = [chosen, ...voices];
  const name = (v) => {
    if (!local()) return v;
    if (v === 'auto') return t(neuralVoices().length ? 'voiceAutoNeural' : 'voiceAuto');
    return neuralVoices().find((m) => m.id === v)?.name ?? `espeak-ng ${v}`;
  };
  $('voice-select').replaceChildren(...voices.map((v) => new Option(name(v), v, false, v === chosen)));
}

export function render() {
  const box = $('style-presets');
  box.replaceChildren(
    ...PRESETS.map((key) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.dataset.preset = key;
      b.textContent = t(key);
      b.addEventListener('click', () => {
        $('style-text').value = t(`${key}Text`);
      });
      return b;
    }),
  );
}

function show(s) {
  fillVoices(s.tts_model, s.tts_provider === 'local' ? s.local_voice : s.voice);
  $('style-local').hidden = s.tts_provider !== 'local';
  $('style-text').value = s.style ?? '';
  $('speed').value = s.speed ?? 1;
  $('speed-value').textContent = `${Number($('speed').value).toFixed(2)}×`;
}

const chosen = () => ({
  [local() ? 'local_voice' : 'voice']: $('voice-select').value,
  style: $('style-text').value,
  speed: Number($('speed').value),
});

/** The preview sentence, in the voice's own language when it is a neural voice that cannot speak the window's. */
function previewText(voice) {
  const lang = neuralVoices().find((m) => m.id === voice)?.languages?.[0];
  return lang && lang !== language() && STRINGS[lang] ? STRINGS[lang].previewSentence : t('previewSentence');
}

export function wire() {
  store.onChange(show);
  // A voice installed or removed under Models shows up here at once.
  localModels.onChange(() => local() && show(store.current()));
  $('speed').addEventListener('input', () => {
    $('speed-value').textContent = `${Number($('speed').value).toFixed(2)}×`;
  });
  $('preview').addEventListener('click', async () => {
    $('voice-result').textContent = '…';
    try {
      const c = chosen();
      await ipc.previewVoice({ text: previewText(c.local_voice), model: store.current().tts_model, ...c, voice: c.voice ?? c.local_voice });
      $('voice-result').textContent = '';
    } catch (e) {
      $('voice-result').textContent = e?.message ?? String(e);
    }
  });
  $('voice-save').addEventListener('click', async () => {
    try {
      await store.save(chosen());
      $('voice-result').textContent = t('saved');
    } catch (e) {
      $('voice-result').textContent = e?.fields?.map(fieldError).join(' ') || e?.message || String(e);
    }
  });
}

// Voice and style: the provider's voices (Google's from its voice list, with
// pitch), style presets (Korean and English) or free text, speed, and a
// preview that speaks a sample sentence.
import { t, fieldError, language, STRINGS } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';
import * as localModels from './models.js';

const $ = (id) => document.getElementById(id);
const PRESETS = ['presetCalm', 'presetWarm', 'presetBrisk'];

/** The espeak-ng voices on this computer, after "follow the reply's language". */
const ESPEAK_VOICES = ['auto', 'ko', 'en-us'];
const local = () => store.current().tts_provider === 'local';
const google = () => store.current().tts_provider === 'google';
/** Google's voices as last listed, by name. */
let googleList = [];
const GENDER = { FEMALE: 'genderFemale', MALE: 'genderMale', NEUTRAL: 'genderNeutral' };
/** Installed neural voices (Piper), by id. */
const neuralVoices = () => localModels.current().models.filter((m) => m.kind === 'speech' && m.installed);

async function fillVoices(model, chosen) {
  let voices = [];
  if (local()) {
    voices = [...ESPEAK_VOICES, ...neuralVoices().map((m) => m.id)];
  } else if (google()) {
    try {
      googleList = await ipc.googleVoices(null);
      // Clears only its own earlier failure, never a "Saved." just written.
      if ($('voice-result').dataset.from === 'voices') $('voice-result').textContent = '';
    } catch (e) {
      googleList = [];
      $('voice-result').textContent = e?.message ?? String(e);
      $('voice-result').dataset.from = 'voices';
    }
    // The languages recognition listens for come first, in their order: those are the ones the replies are in.
    const wanted = store.current().google_languages ?? [];
    const rank = (v) => Math.min(...v.language_codes.map((l) => (wanted.includes(l) ? wanted.indexOf(l) : wanted.length)));
    // '' lets Google pick a voice for each reply's language.
    voices = ['', ...[...googleList].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name)).map((v) => v.name)];
  } else {
    try {
      voices = await ipc.listVoices(model);
    } catch {
      voices = [];
    }
  }
  if ((chosen || chosen === '') && !voices.includes(chosen)) voices = [chosen, ...voices];
  const name = (v) => {
    if (google()) {
      if (v === '') return t('googleVoiceAuto');
      const g = googleList.find((x) => x.name === v);
      return g && GENDER[g.gender] ? `${v} · ${t(GENDER[g.gender])}` : v;
    }
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

/** Writes the panel's result line (a later voice list then leaves it alone). */
function say(text) {
  $('voice-result').textContent = text;
  $('voice-result').dataset.from = '';
}

const VOICE_FIELD = { local: 'local_voice', google: 'google_voice' };
const voiceField = () => VOICE_FIELD[store.current().tts_provider] ?? 'voice';

function show(s) {
  fillVoices(s.tts_model, s[VOICE_FIELD[s.tts_provider] ?? 'voice']);
  $('style-local').hidden = s.tts_provider !== 'local';
  $('pitch-row').hidden = s.tts_provider !== 'google';
  $('pitch').value = s.google_pitch ?? 0;
  $('pitch-value').textContent = Number($('pitch').value).toFixed(1);
  $('style-text').value = s.style ?? '';
  $('speed').value = s.speed ?? 1;
  $('speed-value').textContent = `${Number($('speed').value).toFixed(2)}×`;
}

const chosen = () => ({
  [voiceField()]: $('voice-select').value,
  style: $('style-text').value,
  speed: Number($('speed').value),
  ...(google() ? { google_pitch: Number($('pitch').value) } : {}),
});

/** Lists the voices again (a Google key was just added or removed). */
export const refresh = () => show(store.current());

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
  $('pitch').addEventListener('input', () => {
    $('pitch-value').textContent = Number($('pitch').value).toFixed(1);
  });
  $('preview').addEventListener('click', async () => {
    say('…');
    try {
      const c = chosen();
      const voice = c[voiceField()];
      const pitch = google() ? { pitch: c.google_pitch } : {};
      await ipc.previewVoice({ text: previewText(c.local_voice), model: store.current().tts_model, style: c.style, speed: c.speed, voice, ...pitch });
      say('');
    } catch (e) {
      say(e?.message ?? String(e));
    }
  });
  $('voice-save').addEventListener('click', async () => {
    try {
      await store.save(chosen());
      say(t('saved'));
    } catch (e) {
      say(e?.fields?.map(fieldError).join(' ') || e?.message || String(e));
    }
  });
}

// Voice and style: the provider's voices, style presets (Korean and English)
// or free text, speed, and a preview that speaks a sample sentence.
import { t, fieldError } from '../i18n.js';
import * as ipc from '../ipc.js';
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
const PRESETS = ['presetCalm', 'presetWarm', 'presetBrisk'];

async function fillVoices(model, chosen) {
  let voices = [];
  try {
    voices = await ipc.listVoices(model);
  } catch {
    voices = [];
  }
  if (chosen && !voices.includes(chosen)) voices = [chosen, ...voices];
  $('voice-select').replaceChildren(...voices.map((v) => new Option(v, v, false, v === chosen)));
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
  fillVoices(s.tts_model, s.voice);
  $('style-text').value = s.style ?? '';
  $('speed').value = s.speed ?? 1;
  $('speed-value').textContent = `${Number($('speed').value).toFixed(2)}×`;
}

const chosen = () => ({ voice: $('voice-select').value, style: $('style-text').value, speed: Number($('speed').value) });

export function wire() {
  store.onChange(show);
  $('speed').addEventListener('input', () => {
    $('speed-value').textContent = `${Number($('speed').value).toFixed(2)}×`;
  });
  $('preview').addEventListener('click', async () => {
    $('voice-result').textContent = '…';
    try {
      await ipc.previewVoice({ text: t('previewSentence'), model: store.current().tts_model, ...chosen() });
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

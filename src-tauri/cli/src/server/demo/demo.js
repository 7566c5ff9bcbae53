// The demo page: hold to talk, hear the streamed reply. Events arrive as
// Server-Sent Events over fetch (EventSource cannot POST); the audio inside
// them is 16-bit PCM, scheduled back to back on one AudioContext.

const TEXT = {
  ko: {
    intro: '버튼을 누른 채 말하고, 손을 떼면 소리가 답합니다.',
    token: '토큰 (서버 운영자에게 받으세요)',
    talk: '누르고 말하기', recording: '듣는 중… 손을 떼면 보냅니다', new: '새 대화',
    thinking: '생각하는 중…', speaking: '말하는 중', ready: '준비됨', you: '나',
    noMic: '마이크를 쓸 수 없어요: 브라우저에서 마이크를 허용해 주세요.',
    failed: '요청이 실패했어요', other: 'English',
  },
  en: {
    intro: 'Hold the button and speak; let go and Sori answers.',
    token: 'Token (ask the server\'s operator)',
    talk: 'Hold to talk', recording: 'Listening… let go to send', new: 'New conversation',
    thinking: 'Thinking…', speaking: 'Speaking', ready: 'Ready', you: 'You',
    noMic: 'The microphone is not available: allow it in the browser.',
    failed: 'The request failed', other: '한국어',
  },
};

const $ = (id) => document.getElementById(id);
let lang = (navigator.language || 'ko').startsWith('ko') ? 'ko' : 'en';
let conversation = sessionStorage.getItem('sori-conversation') || '';
let recorder = null;
let chunks = [];
let audio = null;
let playAt = 0;

function t(key) { return TEXT[lang][key]; }

function render() {
  document.documentElement.lang = lang;
  $('intro').textContent = t('intro');
  $('token-label').textContent = t('token');
  $('talk').textContent = recorder ? t('recording') : t('talk');
  $('new').textContent = t('new');
  $('lang').textContent = t('other');
}

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

function line(kind) {
  const div = document.createElement('div');
  div.className = `line ${kind}`;
  if (kind === 'you') div.dataset.who = t('you');
  $('log').append(div);
  return div;
}

function play(event) {
  audio ??= new AudioContext();
  const bytes = Uint8Array.from(atob(event.data), (c) => c.charCodeAt(0));
  const samples = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
  const buffer = audio.createBuffer(1, samples.length, event.sample_rate);
  const channel = buffer.getChannelData(0);
  for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
  const source = audio.createBufferSource();
  source.buffer = buffer;
  source.connect(audio.destination);
  playAt = Math.max(playAt, audio.currentTime + 0.05);
  source.start(playAt);
  playAt += buffer.duration;
  window.soriPlayed = (window.soriPlayed || 0) + samples.length;
}

async function send(blob) {
  const form = new FormData();
  form.append('audio', blob, blob.type.includes('mp4') ? 'question.m4a' : 'question.webm');
  if (conversation) form.append('conversation_id', conversation);
  const headers = { Accept: 'text/event-stream' };
  const token = $('token').value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  status(t('thinking'));
  let reply = null;
  const response = await fetch('/voice-chat', { method: 'POST', body: form, headers });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    status(`${t('failed')} (${response.status}): ${body.error?.message ?? ''}`, true);
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (!data) continue;
      const event = JSON.parse(data);
      switch (event.type) {
        case 'conversation':
          conversation = event.conversation_id;
          sessionStorage.setItem('sori-conversation', conversation);
          break;
        case 'user_transcript': line('you').textContent = event.text; break;
        case 'assistant_delta':
          reply ??= line('sori');
          reply.textContent += event.text;
          break;
        case 'audio': status(t('speaking')); play(event); break;
        case 'error': status(event.message, true); break;
        case 'done': status(t('ready')); document.body.dataset.turns = String(Number(document.body.dataset.turns || 0) + 1); break;
        default: break;
      }
    }
  }
}

async function start(e) {
  e.preventDefault();
  if (recorder) return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch {
    status(t('noMic'), true);
    return;
  }
  chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (ev) => chunks.push(ev.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    const blob = new Blob(chunks, { type: recorder.mimeType });
    recorder = null;
    render();
    $('talk').classList.remove('recording');
    send(blob).catch((err) => status(`${t('failed')}: ${err.message}`, true));
  };
  recorder.start();
  $('talk').classList.add('recording');
  render();
}

function stop() {
  if (recorder && recorder.state === 'recording') recorder.stop();
}

$('talk').addEventListener('pointerdown', start);
$('talk').addEventListener('pointerup', stop);
$('talk').addEventListener('pointerleave', stop);
$('talk').addEventListener('keydown', (e) => { if (e.key === ' ' && !e.repeat) start(e); });
$('talk').addEventListener('keyup', (e) => { if (e.key === ' ') stop(); });
$('new').addEventListener('click', () => {
  conversation = '';
  sessionStorage.removeItem('sori-conversation');
  $('log').replaceChildren();
  status(t('ready'));
});
$('lang').addEventListener('click', () => { lang = lang === 'ko' ? 'en' : 'ko'; render(); });
$('token').value = sessionStorage.getItem('sori-token') || '';
$('token').addEventListener('change', () => sessionStorage.setItem('sori-token', $('token').value.trim()));
render();
status(t('ready'));

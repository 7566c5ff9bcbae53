// Every user-visible string, in Korean and English, in one table.

export const STRINGS = {
  ko: {
    appName: '소리',
    langToggle: 'English',
    version: '버전',
    tabTalk: '대화', tabVoice: '목소리', tabSettings: '설정', tabInspector: '턴 분석', tabHistory: '기록',
    statusIdle: '대기 중', statusListening: '듣는 중', statusTranscribing: '받아쓰는 중', statusThinking: '생각하는 중',
    statusSpeaking: '말하는 중', statusError: '오류',
    micLevel: '마이크 음량',
    emptyTitle: '누르고 말씀하세요',
    emptyBody: '버튼을 누른 채 말하거나, 아래에 질문을 입력하세요.',
    you: '나', sori: '소리',
    interrupted: '여기서 끊김',
    incomplete: '답변이 끝나지 않았어요',
    pttHold: '누르고 말하기', pttTalking: '듣고 있어요… 놓으면 보내요', pttHandsFree: '핸즈프리: 그냥 말씀하세요',
    pttHint: '누른 채 말하기, 또는 클릭해서 켜고 끄기 · 단축키 {key}',
    stop: '멈추기',
    askPlaceholder: '질문을 입력하세요 (Enter로 보내기)',
    askLabel: '질문 입력',
    send: '보내기',
    speakTyped: '답변 읽어 주기',
    newConversation: '새 대화',
    dismiss: '닫기',
    openSettings: '설정 열기', chooseMicrophone: '마이크 선택', keepSessionOnly: '이번 실행 동안만 보관',
    errAuth: 'API 키가 맞지 않거나 권한이 없어요.',
    errRateLimited: '요청이 너무 많아요.',
    errQuota: '사용 한도를 넘었어요. 결제 정보를 확인하세요.',
    errBadRequest: '서버가 요청을 거절했어요. 모델 이름을 확인하세요.',
    errNetwork: '서버에 연결하지 못했어요. 인터넷 연결과 주소를 확인하세요.',
    errTimeout: '서버가 너무 늦게 응답했어요.',
    errServer: '서버에 문제가 생겼어요. 잠시 후 다시 해 보세요.',
    errBadResponse: '서버의 응답을 이해하지 못했어요.',
    retryingIn: '{n}초 후에 다시 시도해요…',
    noSpeech: '말소리가 들리지 않았어요. 말하는 동안 버튼을 누르고 계세요.',
    noMicrophone: '마이크가 없어요. 설정에서 골라 주세요. 입력창은 계속 쓸 수 있어요.',
    hotkeyUnavailable: '전역 단축키를 쓸 수 없어요: {why} 창 안의 버튼과 키는 그대로 작동해요.',
    settingsRecovered: '설정 파일이 손상되어 일부를 기본값으로 되돌렸어요: ',
    voiceTitle: '목소리와 말투',
    voiceLabel: '목소리', styleLabel: '말투', stylePresets: '말투 예시', styleCustom: '직접 쓰기', speedLabel: '속도',
    preview: '미리 듣기', previewSentence: '안녕하세요, 소리입니다. 무엇을 도와드릴까요?',
    saveVoice: '저장', saved: '저장했어요.',
    presetCalm: '차분한 상담원', presetWarm: '따뜻하고 밝게', presetBrisk: '빠르고 간결하게',
    presetCalmText: '차분하고 친절한 고객 상담원처럼, 또박또박 천천히 말하세요.',
    presetWarmText: '따뜻하고 밝은 목소리로, 미소 짓듯이 말하세요.',
    presetBriskText: '빠르고 간결하게, 핵심만 분명하게 말하세요.',
    settingsTitle: '설정',
    providerSection: '서비스', baseUrl: '서버 주소 (OpenAI 호환)',
    modelsSection: '모델', sttModel: '받아쓰기 모델', chatModel: '대화 모델', ttsModel: '음성 모델',
    modelsFromServer: '서버 모델 {n}개', modelsFreeText: '서버가 모델 목록을 주지 않아요. 직접 입력하세요.',
    languageSection: '언어와 페르소나', language: '말하는 언어', langAuto: '자동', persona: '페르소나 (시스템 프롬프트)',
    uiLanguage: '화면 언어', uiSystem: '시스템 따름',
    inputSection: '듣기', inputMode: '입력 방식', modePtt: '누르고 말하기', modeHandsFree: '핸즈프리',
    bargeIn: '말로 끼어들기 (헤드셋 사용 시)', hotkey: '전역 단축키', vad: '음성 감지 민감도', endSilence: '말 끝 대기 (ms)',
    devicesSection: '장치', inputDevice: '마이크', outputDevice: '스피커', systemDefault: '시스템 기본값',
    historySection: '기록', historyEnabled: '대화 기록 저장',
    saveSettings: '설정 저장', settingsSaved: '설정을 저장했어요.', settingsInvalid: '고칠 항목이 있어요.',
    devicesTitle: '소리 장치', refreshDevices: '장치 확인', inputs: '마이크', outputs: '스피커',
    defaultDevice: '기본', noDevices: '장치가 없어요', devicesFailed: '장치 목록을 가져오지 못했어요: ',
    keyTitle: 'API 키', keyLabel: '새 키', keySave: '키 저장', keyCheck: '키 확인', keyClear: '키 삭제',
    keySessionOnly: '이번 실행 동안만 보관', keyNone: '아직 키가 없어요.', keySet: '키 설정됨',
    keyFromEnv: 'OPENAI_API_KEY 환경 변수', keyEmpty: '먼저 키를 붙여 넣으세요.',
    keyWorks: '키가 작동해요. 모델 {n}개를 찾았어요.', keyRejected: '키가 거부되었어요: ',
    keyUnreachable: '서버에 연결할 수 없어요: ', keyFailed: '확인하지 못했어요: ',
    noKeychain: '이 컴퓨터에는 사용할 수 있는 키체인이 없어요. 키를 파일에 저장하지 않아요. 이번 실행 동안만 메모리에 보관할 수 있어요.',
    inspectorTitle: '턴 분석', inspectorEmpty: '아직 턴이 없어요. 질문하면 여기에 시간이 기록돼요.',
    turn: '턴 {n}', replay: '녹음 듣기', replayNone: '입력한 질문에는 녹음이 없어요.',
    mTranscript: '받아쓰기', mFirstToken: '첫 토큰', mFirstChunk: '첫 문장', mTtsFirstByte: 'TTS 첫 바이트', mFirstAudio: '첫 소리', mEnd: '끝',
    turnErrors: '오류',
    historyTitle: '지난 대화', historyEmpty: '저장된 대화가 없어요.', historyOff: '기록 저장이 꺼져 있어요.',
    open: '열기', continueConv: '이어서 대화', exportMd: 'Markdown으로 내보내기', exportJson: 'JSON으로 내보내기', delete: '삭제',
    confirmDelete: '이 대화를 지울까요?', turns: '{n}개 턴',
  },
  en: {
    appName: 'Sori',
    langToggle: '한국어',
    version: 'Version',
    tabTalk: 'Talk', tabVoice: 'Voice', tabSettings: 'Settings', tabInspector: 'Inspector', tabHistory: 'History',
    statusIdle: 'Idle', statusListening: 'Listening', statusTranscribing: 'Transcribing', statusThinking: 'Thinking',
    statusSpeaking: 'Speaking', statusError: 'Error',
    micLevel: 'Microphone level',
    emptyTitle: 'Press and speak',
    emptyBody: 'Hold the button while you talk, or type a question below.',
    you: 'You', sori: 'Sori',
    interrupted: 'cut here',
    incomplete: 'The reply did not finish',
    pttHold: 'Hold to talk', pttTalking: 'Listening… release to send', pttHandsFree: 'Hands-free: just talk',
    pttHint: 'Hold while you talk, or click to toggle · shortcut {key}',
    stop: 'Stop',
    askPlaceholder: 'Type a question (Enter sends)',
    askLabel: 'Question',
    send: 'Send',
    speakTyped: 'Speak replies',
    newConversation: 'New conversation',
    dismiss: 'Dismiss',
    openSettings: 'Open settings', chooseMicrophone: 'Choose a microphone', keepSessionOnly: 'Keep it for this session only',
    errAuth: 'The API key is wrong or has no access.',
    errRateLimited: 'Too many requests.',
    errQuota: 'The account is out of quota. Check its billing.',
    errBadRequest: 'The server refused the request. Check the model names.',
    errNetwork: 'Could not reach the server. Check the connection and the address.',
    errTimeout: 'The server took too long to answer.',
    errServer: 'The server has a problem. Try again in a moment.',
    errBadResponse: 'The server sent something Sori could not understand.',
    retryingIn: 'Retrying in {n} s…',
    noSpeech: 'No speech was heard. Hold the button while you talk.',
    noMicrophone: 'No microphone was found. Pick one in Settings; typing still works.',
    hotkeyUnavailable: 'The global shortcut is not available: {why} The button and the key in this window still work.',
    settingsRecovered: 'The settings file was damaged; some settings went back to their defaults: ',
    voiceTitle: 'Voice and style',
    voiceLabel: 'Voice', styleLabel: 'Style', stylePresets: 'Style presets', styleCustom: 'Your own words', speedLabel: 'Speed',
    preview: 'Preview', previewSentence: "Hi, I'm Sori. How can I help you today?",
    saveVoice: 'Save', saved: 'Saved.',
    presetCalm: 'Calm support agent', presetWarm: 'Warm and cheerful', presetBrisk: 'Brisk and concise',
    presetCalmText: 'Speak like a calm, kind customer-support agent: clear, unhurried, reassuring.',
    presetWarmText: 'Speak warmly and cheerfully, as if smiling.',
    presetBriskText: 'Speak briskly and concisely; get to the point.',
    settingsTitle: 'Settings',
    providerSection: 'Provider', baseUrl: 'Server address (OpenAI-compatible)',
    modelsSection: 'Models', sttModel: 'Speech-to-text model', chatModel: 'Chat model', ttsModel: 'Speech model',
    modelsFromServer: '{n} models on the server', modelsFreeText: 'The server lists no models; type their names.',
    languageSection: 'Language and persona', language: 'Spoken language', langAuto: 'Automatic', persona: 'Persona (system prompt)',
    uiLanguage: 'Window language', uiSystem: 'Follow the system',
    inputSection: 'Listening', inputMode: 'Input', modePtt: 'Push to talk', modeHandsFree: 'Hands-free',
    bargeIn: 'Interrupt by voice (for headsets)', hotkey: 'Global shortcut', vad: 'Speech detection sensitivity', endSilence: 'End-of-speech silence (ms)',
    devicesSection: 'Devices', inputDevice: 'Microphone', outputDevice: 'Speaker', systemDefault: 'System default',
    historySection: 'History', historyEnabled: 'Keep a history of conversations',
    saveSettings: 'Save settings', settingsSaved: 'Settings saved.', settingsInvalid: 'Some fields need fixing.',
    devicesTitle: 'Sound devices', refreshDevices: 'Check devices', inputs: 'Microphones', outputs: 'Speakers',
    defaultDevice: 'default', noDevices: 'No devices', devicesFailed: 'Could not list the devices: ',
    keyTitle: 'API key', keyLabel: 'New key', keySave: 'Save key', keyCheck: 'Check key', keyClear: 'Forget key',
    keySessionOnly: 'Keep it for this session only', keyNone: 'No key yet.', keySet: 'Key set',
    keyFromEnv: 'the OPENAI_API_KEY environment variable', keyEmpty: 'Paste a key first.',
    keyWorks: 'The key works: the server lists {n} models.', keyRejected: 'The key was rejected: ',
    keyUnreachable: 'Cannot reach the server: ', keyFailed: 'Could not check the key: ',
    noKeychain: 'This computer has no usable keychain, and Sori never writes keys to a file. You can keep the key in memory until Sori closes.',
    inspectorTitle: 'Turn inspector', inspectorEmpty: 'No turns yet. Ask something and its timings appear here.',
    turn: 'Turn {n}', replay: 'Replay recording', replayNone: 'A typed question has no recording.',
    mTranscript: 'Transcript', mFirstToken: 'First token', mFirstChunk: 'First clause', mTtsFirstByte: 'TTS first byte', mFirstAudio: 'First audio', mEnd: 'End',
    turnErrors: 'Errors',
    historyTitle: 'Past conversations', historyEmpty: 'No saved conversations.', historyOff: 'History is turned off.',
    open: 'Open', continueConv: 'Continue', exportMd: 'Export Markdown', exportJson: 'Export JSON', delete: 'Delete',
    confirmDelete: 'Delete this conversation?', turns: '{n} turns',
  },
};

/** The system's language if we have it, else English. */
export function systemLanguage(nav = navigator) {
  const tags = nav.languages?.length ? nav.languages : [nav.language || 'en'];
  return tags.some((t) => t.toLowerCase().startsWith('ko')) ? 'ko' : 'en';
}

let current = systemLanguage();

export const language = () => current;
export function setLanguage(lang) {
  current = lang === 'ko' ? 'ko' : 'en';
}

/** A string of the current language, with `{name}` filled in from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** Fills every `data-i18n*` element under `root`. */
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

// Every user-visible string, in Korean and English, in one table.

export const STRINGS = {
  ko: {
    appName: '소리',
    statusIdle: '대기 중',
    heroTitle: '누르고 말씀하세요',
    heroBody: '소리가 듣고, 생각하고, 목소리로 답해 드려요.',
    devicesTitle: '소리 장치',
    refreshDevices: '장치 확인',
    inputs: '마이크',
    outputs: '스피커',
    defaultDevice: '기본',
    noDevices: '장치가 없어요',
    devicesFailed: '장치 목록을 가져오지 못했어요: ',
    version: '버전',
    langToggle: 'English',
  },
  en: {
    appName: 'Sori',
    statusIdle: 'Idle',
    heroTitle: 'Press and speak',
    heroBody: 'Sori listens, thinks and answers out loud.',
    devicesTitle: 'Sound devices',
    refreshDevices: 'Check devices',
    inputs: 'Microphones',
    outputs: 'Speakers',
    defaultDevice: 'default',
    noDevices: 'No devices',
    devicesFailed: 'Could not list the devices: ',
    version: 'Version',
    langToggle: '한국어',
  },
};

/** The system's language if we have it, else English. */
export function systemLanguage(nav = navigator) {
  const tags = nav.languages?.length ? nav.languages : [nav.language || 'en'];
  return tags.some((t) => t.toLowerCase().startsWith('ko')) ? 'ko' : 'en';
}

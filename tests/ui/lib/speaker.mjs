// The rig's virtual speaker, recorded from its monitor while a real-app test runs.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Starts recording the speaker into `dir`; `stop()` gives the seconds of sound in it. */
export function recordSpeaker(dir, name) {
  const file = path.join(dir, `${name}.raw`);
  const p = spawn('parecord', ['-d', 'speaker.monitor', '--raw', '--format=s16le', '--rate=16000', '--channels=1', file]);
  return {
    async stop() {
      p.kill('SIGINT');
      await new Promise((r) => p.on('exit', r));
      const bytes = await readFile(file);
      let loud = 0;
      for (let at = 0; at + 320 <= bytes.length; at += 320) {
        let sum = 0;
        for (let i = at; i < at + 320; i += 2) sum += bytes.readInt16LE(i) ** 2;
        if (sum / 160 > 1e6) loud++;
      }
      return loud * 0.01;
    },
  };
}

// The recording test's beep detector on a synthetic file: a broadband pop just before a beep must not
// be taken for the beep or hide it (a level-only detector took any sound a quarter as loud for one).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { beepOnsets } from './av-sync.js';

describe('beepOnsets', () => {
  it('finds each 1 kHz beep where it begins, not a pop 260 ms before it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-av-sync-'));
    const file = path.join(dir, 'beeps.mkv');
    try {
      // Beeps (0.5, 200 ms) at 1.0 and 2.5 s; an 80 ms burst of noise at 2.24 s; a -60 dBFS hum throughout.
      const beep = (at: number): string => `between(t,${at},${at + 0.2})*0.5*sin(2*PI*1000*t)`;
      const expression = `${beep(1)}+${beep(2.5)}+between(t,2.24,2.32)*0.6*(2*random(0)-1)+0.001*sin(2*PI*200*t)`;
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `aevalsrc='${expression}':s=48000:d=3.5`, '-c:a', 'libopus', '-b:a', '64k', '-y', file]);
      const onsets = beepOnsets(file);
      expect(onsets).toHaveLength(2);
      expect(Math.abs(onsets[0]! - 1)).toBeLessThan(0.01);
      expect(Math.abs(onsets[1]! - 2.5)).toBeLessThan(0.01);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

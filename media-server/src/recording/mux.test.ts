import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { muxArguments, segmentStart } from './mux.js';

describe('muxArguments', () => {
  it('copies video at its offset and mixes audio only when there is more than one audio track', () => {
    const one = muxArguments(
      [
        { file: 'a.mkv', kind: 'audio', offsetMs: 0 },
        { file: 'v.mkv', kind: 'video', offsetMs: 1500 },
      ],
      'out.mkv',
    );
    expect(one.transcoded).toBe(false);
    expect(one.args.join(' ')).toContain('-itsoffset 1.500 -i v.mkv');
    expect(one.args.join(' ')).toContain('-map 0:a:0 -c:a copy');
    expect(one.args).not.toContain('-filter_complex');

    const two = muxArguments(
      [
        { file: 'a1.mkv', kind: 'audio', offsetMs: 0 },
        { file: 'a2.mkv', kind: 'audio', offsetMs: 4200 },
        { file: 'v1.mkv', kind: 'video', offsetMs: 300 },
        { file: 'v2.mkv', kind: 'video', offsetMs: 4300 },
      ],
      'out.mkv',
    );
    expect(two.transcoded).toBe(true);
    const filter = two.args[two.args.indexOf('-filter_complex') + 1]!;
    expect(filter).toContain('[1:a:0]asetpts=PTS-STARTPTS,aresample=async=1,adelay=4200:all=1[a1]');
    expect(filter).toContain('amix=inputs=2');
    expect(two.args.filter((a) => a === '-map').length).toBe(3);
    expect(two.args.join(' ')).toContain('-c:v copy');
    // Mixed audio is not shifted twice: no input offset on the audio inputs.
    expect(two.args.join(' ')).not.toContain('-itsoffset 4.200 -i a2.mkv');
  });
});

describe('segmentStart', () => {
  it("reads when a segment's first packet comes in its own time, and nothing from a file FFmpeg cannot read", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-segment-start-'));
    try {
      // As a recorder writes with -copyts when the copy had to skip its first 0.8 s (no keyframe yet).
      const late = path.join(dir, 'late.mkv');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=160x120:rate=30',
        '-t',
        '1',
        '-c:v',
        'libvpx',
        '-output_ts_offset',
        '0.8',
        '-f',
        'matroska',
        '-y',
        late,
      ]);
      expect(await segmentStart('ffprobe', late)).toBeCloseTo(0.8, 3);
      const onTime = path.join(dir, 'on-time.mkv');
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-t', '1', '-c:v', 'libvpx', '-f', 'matroska', '-y', onTime]);
      expect(await segmentStart('ffprobe', onTime)).toBe(0);
      // A recorder killed before it wrote the file's header.
      const cut = path.join(dir, 'cut.mkv');
      fs.writeFileSync(cut, fs.readFileSync(onTime).subarray(0, 20));
      expect(await segmentStart('ffprobe', cut)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

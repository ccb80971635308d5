import { describe, expect, it } from 'vitest';
import { muxArguments } from './mux.js';

describe('muxArguments', () => {
  it('copies video at its offset and mixes audio only when there is more than one audio track', () => {
    const one = muxArguments([{ file: 'a.mkv', kind: 'audio', offsetMs: 0 }, { file: 'v.mkv', kind: 'video', offsetMs: 1500 }], 'out.mkv');
    expect(one.transcoded).toBe(false);
    expect(one.args.join(' ')).toContain('-itsoffset 1.500 -i v.mkv');
    expect(one.args.join(' ')).toContain('-map 0:a:0 -c:a copy');
    expect(one.args).not.toContain('-filter_complex');

    const two = muxArguments([
      { file: 'a1.mkv', kind: 'audio', offsetMs: 0 },
      { file: 'a2.mkv', kind: 'audio', offsetMs: 4200 },
      { file: 'v1.mkv', kind: 'video', offsetMs: 300 },
      { file: 'v2.mkv', kind: 'video', offsetMs: 4300 },
    ], 'out.mkv');
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

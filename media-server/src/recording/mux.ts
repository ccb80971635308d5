import { spawn } from 'node:child_process';
import { spawnTied } from './tied-process.js';

export interface MuxInput {
  file: string;
  kind: 'audio' | 'video';
  /** Where the segment starts in the call's recording, ms. */
  offsetMs: number;
}

/**
 * The FFmpeg arguments that put a call's track segments into one Matroska file, each at its offset:
 * video streams copied as sent (one stream per segment); audio copied when there is one segment,
 * else mixed into one Opus stream (the only transcoding, and only when there is more than one).
 */
export function muxArguments(inputs: readonly MuxInput[], output: string): { args: string[]; transcoded: boolean } {
  const audio = inputs.map((input, index) => ({ ...input, index })).filter((i) => i.kind === 'audio');
  const video = inputs.map((input, index) => ({ ...input, index })).filter((i) => i.kind === 'video');
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
  for (const input of inputs) {
    // Copied streams keep their place through the input offset; mixed audio through adelay.
    if (input.kind === 'video' || audio.length === 1) args.push('-itsoffset', (input.offsetMs / 1000).toFixed(3));
    args.push('-i', input.file);
  }
  for (const v of video) args.push('-map', `${v.index}:v:0`);
  const transcoded = audio.length > 1;
  if (transcoded) {
    // Each track from 0, silence where packets are missing (pauses, gaps), then shifted to its offset.
    const chains = audio.map((a, n) => `[${a.index}:a:0]asetpts=PTS-STARTPTS,aresample=async=1,adelay=${Math.round(a.offsetMs)}:all=1[a${n}]`);
    const labels = audio.map((_, n) => `[a${n}]`).join('');
    args.push(
      '-filter_complex',
      `${chains.join(';')};${labels}amix=inputs=${audio.length}:duration=longest:normalize=0[mix]`,
      '-map',
      '[mix]',
      '-c:a',
      'libopus',
      '-b:a',
      '64k',
    );
  } else if (audio.length === 1) {
    args.push('-map', `${audio[0]!.index}:a:0`, '-c:a', 'copy');
  }
  args.push('-c:v', 'copy', '-f', 'matroska', output);
  return { args, transcoded };
}

/**
 * When a segment's first packet comes, s in its own time (0 at the first RTP packet the recorder
 * received, which it keeps with -copyts); undefined when FFmpeg cannot read the file (a recorder
 * killed before it wrote the file's header leaves one it cannot). Later than 0 when the stream copy
 * had to drop the first frames (an incomplete keyframe: it starts at the next one).
 */
export function segmentStart(ffprobePath: string, file: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(ffprobePath, ['-v', 'error', '-show_entries', 'stream=codec_name:format=start_time', '-of', 'json', file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', () => resolve(undefined));
    child.once('exit', (code) => {
      if (code !== 0) return resolve(undefined);
      try {
        const probe = JSON.parse(out) as { streams?: Array<{ codec_name?: string }>; format?: { start_time?: string } };
        if (!probe.streams?.some((s) => s.codec_name)) return resolve(undefined);
        const start = Number(probe.format?.start_time ?? 0);
        resolve(Number.isFinite(start) ? start : 0);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** Runs FFmpeg to completion; rejects with its last error lines when it fails. */
export function runFfmpeg(ffmpegPath: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // Tied like the recorders: a mux outlives no media server.
    const child = spawnTied(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed (${code ?? signal}): ${stderr.trim().slice(-500)}`))));
  });
}

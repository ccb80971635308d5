import { spawn } from 'node:child_process';

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
    args.push('-filter_complex', `${chains.join(';')};${labels}amix=inputs=${audio.length}:duration=longest:normalize=0[mix]`, '-map', '[mix]', '-c:a', 'libopus', '-b:a', '64k');
  } else if (audio.length === 1) {
    args.push('-map', `${audio[0]!.index}:a:0`, '-c:a', 'copy');
  }
  args.push('-c:v', 'copy', '-f', 'matroska', output);
  return { args, transcoded };
}

/** Whether FFmpeg can read a segment (a recorder killed before it wrote the file's header leaves one it cannot). */
export function readable(ffprobePath: string, file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(ffprobePath, ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0 && out.trim().length > 0));
  });
}

/** Runs FFmpeg to completion; rejects with its last error lines when it fails. */
export function runFfmpeg(ffmpegPath: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed (${code ?? signal}): ${stderr.trim().slice(-500)}`))));
  });
}

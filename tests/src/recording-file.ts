// A recorded call's file as the tests check it: what ffprobe finds in it.
import { execFileSync, spawnSync } from 'node:child_process';

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  /** Seconds in the file's timeline (a segment placed at its offset starts there). */
  start_time?: string;
  /** Matroska keeps where each stream ends in a tag, e.g. "00:00:12.345000000". */
  tags?: { DURATION?: string };
}

export interface RecordingProbe {
  streams: ProbeStream[];
  /** Seconds. */
  duration: number;
  /** e.g. "audio/opus from 0.00 s to 12.30 s, video/vp8 640x480 from 0.41 s to 12.25 s; 12.30 s", for the log. */
  summary: string;
}

export function probeRecording(file: string): RecordingProbe {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' })) as {
    streams: ProbeStream[];
    format: { duration: string };
  };
  const duration = Number(probe.format.duration);
  const summary = `${probe.streams.map((s) => `${s.codec_type}/${s.codec_name}${s.width ? ` ${s.width}x${s.height}` : ''} from ${Number(s.start_time ?? 0).toFixed(2)} s to ${streamEndS(s)?.toFixed(2) ?? '?'} s`).join(', ')}; ${duration.toFixed(2)} s`;
  return { streams: probe.streams, duration, summary };
}

/** Where a stream ends in the file's timeline, s (Matroska's DURATION tag counts from the file's 0). */
export function streamEndS(stream: ProbeStream): number | undefined {
  const match = /^(\d+):(\d+):([\d.]+)$/.exec(stream.tags?.DURATION ?? '');
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : undefined;
}

/** What FFmpeg reports decoding every stream of the file, every frame ('' when all decode cleanly). */
export function decodeErrors(file: string): string {
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0', '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-'], {
    encoding: 'utf8',
  });
  return decode.status === 0 ? decode.stderr.trim() : `ffmpeg exited ${decode.status ?? decode.signal}: ${decode.stderr.trim()}`;
}

/** The flags of video stream `stream`'s first packet: `K…` when it is a keyframe. */
export function firstVideoPacketFlags(file: string, stream: number): string {
  return execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', `v:${stream}`, '-show_entries', 'packet=flags', '-read_intervals', '%+#1', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  ).trim();
}

/** Frames decoded from video stream `stream` (VP8 has frames that are decoded but never shown, so not the packet count). */
export function decodedVideoFrames(file: string, stream: number): number {
  return Number(
    execFileSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', `v:${stream}`, '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
      { encoding: 'utf8' },
    ).trim(),
  );
}

// A recorded call's file as the tests check it: what ffprobe finds in it.
import { execFileSync } from 'node:child_process';

export interface ProbeStream { codec_type: string; codec_name: string; width?: number; height?: number }

export interface RecordingProbe {
  streams: ProbeStream[];
  /** Seconds. */
  duration: number;
  /** e.g. "audio/opus, video/vp8 640x480; 12.30 s", for the log. */
  summary: string;
}

export function probeRecording(file: string): RecordingProbe {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' })) as { streams: ProbeStream[]; format: { duration: string } };
  const duration = Number(probe.format.duration);
  const summary = `${probe.streams.map((s) => `${s.codec_type}/${s.codec_name}${s.width ? ` ${s.width}x${s.height}` : ''}`).join(', ')}; ${duration.toFixed(2)} s`;
  return { streams: probe.streams, duration, summary };
}

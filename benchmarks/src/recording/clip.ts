// Real media for the recording benchmark's bots: a VP8 clip (FFmpeg's libvpx, 640×360 at 30 frames/s,
// a keyframe every second) and an Opus clip (20 ms packets), encoded once, then packetized into RTP
// as a browser sends them, looping. FFmpeg in the recorder gets the same bytes a camera's encoder
// would give it, so the recorded file decodes and its packets can be counted against what was sent.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUDIO_PAYLOAD_TYPE, header, VIDEO_PAYLOAD_TYPE, type AudioSource, type VideoSource } from '../sfu/rtp.js';

export const CLIP_FPS = 30;
const CLIP_SECONDS = 20;
const MAX_PAYLOAD = 1100;

export interface Clips {
  /** VP8 frames in order, each with whether it is a keyframe. */
  video: { data: Buffer; key: boolean }[];
  /** Opus packets of 20 ms. */
  audio: Buffer[];
  videoBitrate: number;
  audioBitrate: number;
}

/** Encodes the clips once per machine (cached under the OS temp dir) and reads them. */
export function loadClips(ffmpeg = 'ffmpeg', videoBitrate = 1_000_000): Clips {
  const dir = path.join(os.tmpdir(), 'telemed-bench-recording-clips');
  fs.mkdirSync(dir, { recursive: true });
  const ivf = path.join(dir, `video-${videoBitrate}.ivf`);
  const ogg = path.join(dir, 'audio.opus');
  if (!fs.existsSync(ivf)) {
    execFileSync(ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=640x360:rate=${CLIP_FPS}`,
      '-t',
      String(CLIP_SECONDS),
      '-c:v',
      'libvpx',
      '-b:v',
      String(videoBitrate),
      '-g',
      String(CLIP_FPS),
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-auto-alt-ref',
      '0',
      '-f',
      'ivf',
      `${ivf}.tmp`,
    ]);
    fs.renameSync(`${ivf}.tmp`, ivf);
  }
  if (!fs.existsSync(ogg)) {
    execFileSync(ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-t',
      String(CLIP_SECONDS),
      '-ac',
      '2',
      '-c:a',
      'libopus',
      '-b:a',
      '48k',
      '-frame_duration',
      '20',
      '-f',
      'ogg',
      `${ogg}.tmp`,
    ]);
    fs.renameSync(`${ogg}.tmp`, ogg);
  }
  const video = readIvf(fs.readFileSync(ivf));
  const audio = readOggPackets(fs.readFileSync(ogg)).slice(2); // OpusHead and OpusTags first
  const bytes = (list: Buffer[]): number => list.reduce((n, b) => n + b.length, 0);
  return {
    video,
    audio,
    videoBitrate: Math.round((bytes(video.map((f) => f.data)) * 8) / (video.length / CLIP_FPS)),
    audioBitrate: Math.round((bytes(audio) * 8) / (audio.length * 0.02)),
  };
}

/** IVF: a 32-byte file header, then per frame a 12-byte header (size, timestamp) and the frame. */
function readIvf(file: Buffer): { data: Buffer; key: boolean }[] {
  const frames: { data: Buffer; key: boolean }[] = [];
  for (let at = file.readUInt16LE(6); at + 12 <= file.length;) {
    const size = file.readUInt32LE(at);
    const data = file.subarray(at + 12, at + 12 + size);
    // VP8 frame tag: bit 0 clear for a keyframe.
    frames.push({ data, key: ((data[0] ?? 1) & 1) === 0 });
    at += 12 + size;
  }
  return frames;
}

/** The packets of an Ogg stream: pages' segments joined, a lacing value of 255 continuing a packet. */
function readOggPackets(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  for (let at = 0; at + 27 <= file.length && file.toString('latin1', at, at + 4) === 'OggS';) {
    const segments = file[at + 26] ?? 0;
    let data = at + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const lacing = file[at + 27 + i] ?? 0;
      pending.push(file.subarray(data, data + lacing));
      data += lacing;
      if (lacing < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    at = data;
  }
  return packets;
}

/** The VP8 clip as RTP (RFC 7741 payload descriptor with a 15-bit picture id), looping; a keyframe request skips to the next keyframe. */
export class ClipVp8Stream implements VideoSource {
  readonly ssrc: number;
  readonly #frames: Clips['video'];
  #index: number;
  #seq = Math.floor(Math.random() * 0xffff);
  #pictureId = 0;
  #sent = 0;
  #keyframeRequested = false;

  constructor(ssrc: number, clips: Clips, startFrame = 0) {
    this.ssrc = ssrc;
    this.#frames = clips.video;
    this.#index = startFrame % clips.video.length;
  }

  requestKeyframe(): void {
    this.#keyframeRequested = true;
  }

  nextFrame(): Buffer[] {
    if (this.#keyframeRequested) {
      this.#keyframeRequested = false;
      while (!this.#frames[this.#index]!.key) this.#index = (this.#index + 1) % this.#frames.length;
    }
    const frame = this.#frames[this.#index]!.data;
    this.#index = (this.#index + 1) % this.#frames.length;
    const timestamp = this.#sent++ * (90_000 / CLIP_FPS);
    const packets: Buffer[] = [];
    const count = Math.max(1, Math.ceil(frame.length / MAX_PAYLOAD));
    for (let i = 0; i < count; i++) {
      const chunk = frame.subarray(i * MAX_PAYLOAD, (i + 1) * MAX_PAYLOAD);
      const packet = Buffer.alloc(12 + 4 + chunk.length);
      header(packet, VIDEO_PAYLOAD_TYPE, i === count - 1, this.#seq++, timestamp, this.ssrc);
      packet[12] = 0x80 | (i === 0 ? 0x10 : 0); // X; S on the frame's first packet (partition 0)
      packet[13] = 0x80; // I: picture id present
      packet.writeUInt16BE(0x8000 | this.#pictureId, 14); // M: 15-bit picture id
      chunk.copy(packet, 16);
      packets.push(packet);
    }
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    return packets;
  }
}

/** The Opus clip as RTP, one 20 ms packet each, looping. */
export class ClipOpusStream implements AudioSource {
  readonly ssrc: number;
  readonly #packets: Buffer[];
  #index: number;
  #seq = Math.floor(Math.random() * 0xffff);
  #timestamp = 0;

  constructor(ssrc: number, clips: Clips, startPacket = 0) {
    this.ssrc = ssrc;
    this.#packets = clips.audio;
    this.#index = startPacket % clips.audio.length;
  }

  next(): Buffer {
    const payload = this.#packets[this.#index]!;
    this.#index = (this.#index + 1) % this.#packets.length;
    const packet = Buffer.alloc(12 + payload.length);
    header(packet, AUDIO_PAYLOAD_TYPE, false, this.#seq++, this.#timestamp, this.ssrc);
    payload.copy(packet, 12);
    this.#timestamp += 960;
    return packet;
  }
}

// Synthetic RTP that mediasoup parses as real media: VP8 with a payload descriptor (X bit and a
// 15-bit picture id) whose first packet of every keyframe carries the VP8 keyframe header, and
// Opus-sized audio packets every 20 ms.

export const VIDEO_PAYLOAD_TYPE = 96;
export const AUDIO_PAYLOAD_TYPE = 111;
const VP8_PAYLOAD_BYTES = 1100;
const VP8_DESCRIPTOR_BYTES = 4;

export interface StreamProfile {
  /** Video bitrate in bit/s at 30 frames per second. */
  videoBitrate: number;
  /** Opus packet payload size in bytes (20 ms frames: 160 bytes ≈ 64 kbit/s). */
  audioPayloadBytes: number;
  /** A keyframe every this many frames (and after every PLI/FIR). */
  keyframeInterval: number;
}

export const DEFAULT_PROFILE: StreamProfile = { videoBitrate: 1_500_000, audioPayloadBytes: 160, keyframeInterval: 60 };

export function header(packet: Buffer, payloadType: number, marker: boolean, seq: number, timestamp: number, ssrc: number): void {
  packet[0] = 0x80;
  packet[1] = (marker ? 0x80 : 0) | payloadType;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
}

/** What a bot's camera sends: the packets of one frame at a time, a keyframe soon after a request. */
export interface VideoSource {
  readonly ssrc: number;
  requestKeyframe(): void;
  nextFrame(): Buffer[];
}

/** What a bot's microphone sends: one 20 ms packet at a time. */
export interface AudioSource {
  readonly ssrc: number;
  next(): Buffer;
}

/** Packets one video frame is split into at the profile's bitrate. */
export function packetsPerFrame(profile: StreamProfile): number {
  return Math.max(1, Math.ceil(profile.videoBitrate / 8 / 30 / VP8_PAYLOAD_BYTES));
}

/** Generates a VP8 stream frame by frame. */
export class Vp8Stream implements VideoSource {
  readonly ssrc: number;
  readonly #profile: StreamProfile;
  readonly #perFrame: number;
  #seq = Math.floor(Math.random() * 0xffff);
  #pictureId = 0;
  #frame = 0;
  #keyframeRequested = true;

  constructor(ssrc: number, profile: StreamProfile) {
    this.ssrc = ssrc;
    this.#profile = profile;
    this.#perFrame = packetsPerFrame(profile);
  }

  requestKeyframe(): void {
    this.#keyframeRequested = true;
  }

  /** The packets of the next frame. */
  nextFrame(): Buffer[] {
    const keyframe = this.#keyframeRequested || this.#frame % this.#profile.keyframeInterval === 0;
    this.#keyframeRequested = false;
    const timestamp = this.#frame * 3000; // 90 kHz / 30 fps
    const packets: Buffer[] = [];
    for (let i = 0; i < this.#perFrame; i++) {
      const packet = Buffer.alloc(12 + VP8_DESCRIPTOR_BYTES + VP8_PAYLOAD_BYTES);
      header(packet, VIDEO_PAYLOAD_TYPE, i === this.#perFrame - 1, this.#seq++, timestamp, this.ssrc);
      packet[12] = 0x80 | (i === 0 ? 0x10 : 0); // X; S on the first packet (partition 0)
      packet[13] = 0x80; // I: picture id present
      packet.writeUInt16BE(0x8000 | this.#pictureId, 14); // M: 15-bit picture id
      if (i === 0) {
        // VP8 payload header: P bit 0 = keyframe, then the keyframe start code and 640x360.
        packet[16] = keyframe ? 0x10 : 0x11;
        if (keyframe) packet.set([0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01], 17);
      }
      packets.push(packet);
    }
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    this.#frame++;
    return packets;
  }
}

/** Generates 20 ms Opus-sized audio packets. */
export class OpusStream implements AudioSource {
  readonly ssrc: number;
  readonly #payloadBytes: number;
  #seq = Math.floor(Math.random() * 0xffff);
  #timestamp = 0;

  constructor(ssrc: number, payloadBytes: number) {
    this.ssrc = ssrc;
    this.#payloadBytes = payloadBytes;
  }

  next(): Buffer {
    const packet = Buffer.alloc(12 + this.#payloadBytes);
    header(packet, AUDIO_PAYLOAD_TYPE, false, this.#seq++, this.#timestamp, this.ssrc);
    packet[12] = 0xfc; // Opus TOC: CELT FB 20 ms, one frame
    this.#timestamp += 960;
    return packet;
  }
}

/** True when an RTCP compound packet holds a PLI or FIR (a keyframe request). */
export function isKeyframeRequest(rtcp: Buffer): boolean {
  let offset = 0;
  while (offset + 4 <= rtcp.length) {
    const fmt = (rtcp[offset] ?? 0) & 0x1f;
    const type = rtcp[offset + 1];
    if (type === 206 && (fmt === 1 || fmt === 4)) return true;
    offset += (rtcp.readUInt16BE(offset + 2) + 1) * 4;
  }
  return false;
}

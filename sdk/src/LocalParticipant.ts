import type { types as msTypes } from 'mediasoup-client';
import { deviceErrorFrom, TelemedError } from './errors.js';
import { LocalTrack } from './LocalTrack.js';
import { Participant } from './Participant.js';
import type { SignalClient } from './SignalClient.js';
import { Track } from './Track.js';

export type LocalParticipantEvents = {
  trackPublished: [LocalTrack];
  trackUnpublished: [LocalTrack];
};

/** Camera simulcast: three spatial layers the SFU picks from per subscriber. */
const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

export interface PublishOptions {
  source: Track.Source;
}

interface PublishContext {
  sendTransport: msTypes.Transport | undefined;
  signal: SignalClient;
}

/** This device's user in the room: captures and publishes tracks. */
export class LocalParticipant extends Participant<LocalParticipantEvents, LocalTrack> {
  #context: PublishContext | undefined;

  /** @internal */
  constructor(sid: string, identity: string, name: string) {
    super(sid, identity, name);
  }

  /** @internal */
  handleConnected(context: PublishContext): void {
    this.#context = context;
  }

  /** Opens the camera and publishes it, or unpublishes and closes it. */
  async setCameraEnabled(enabled: boolean, constraints: MediaTrackConstraints = { width: 1280, height: 720 }): Promise<LocalTrack | undefined> {
    return this.#setSourceEnabled(Track.Source.Camera, enabled, () => navigator.mediaDevices.getUserMedia({ video: constraints }), 'camera');
  }

  /** Opens the microphone and publishes it, or unpublishes and closes it. */
  async setMicrophoneEnabled(enabled: boolean, constraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true }): Promise<LocalTrack | undefined> {
    return this.#setSourceEnabled(Track.Source.Microphone, enabled, () => navigator.mediaDevices.getUserMedia({ audio: constraints }), 'microphone');
  }

  async #setSourceEnabled(source: Track.Source, enabled: boolean, capture: () => Promise<MediaStream>, what: string): Promise<LocalTrack | undefined> {
    const existing = this.trackMap.get(source);
    if (!enabled) {
      if (existing) await this.unpublishTrack(existing);
      return undefined;
    }
    if (existing) return existing;
    let stream: MediaStream;
    try {
      stream = await capture();
    } catch (error) {
      throw deviceErrorFrom(error, what);
    }
    const [mediaStreamTrack] = stream.getTracks();
    if (!mediaStreamTrack) throw deviceErrorFrom(new DOMException('no track', 'NotFoundError'), what);
    try {
      return await this.publishTrack(mediaStreamTrack, { source });
    } catch (error) {
      mediaStreamTrack.stop();
      throw error;
    }
  }

  /** Publishes a track you captured yourself. */
  async publishTrack(mediaStreamTrack: MediaStreamTrack, options: PublishOptions): Promise<LocalTrack> {
    const context = this.#context;
    if (!context?.sendTransport) throw new TelemedError('FORBIDDEN', 'this room token may not publish, or the room is not connected');
    if (this.trackMap.has(options.source)) throw new TelemedError('INVALID_STATE', `a ${options.source} track is published already`);
    const track = new LocalTrack(mediaStreamTrack, options.source);
    const isCamera = options.source === Track.Source.Camera;
    const producer = await context.sendTransport.produce({
      track: mediaStreamTrack,
      ...(isCamera ? { encodings: CAMERA_ENCODINGS, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      ...(mediaStreamTrack.kind === 'audio' ? { codecOptions: { opusDtx: true, opusFec: true, opusStereo: false } } : {}),
      stopTracks: false,
      appData: { source: options.source },
    });
    track.setPublished(producer, context.signal);
    this.trackMap.set(options.source, track);
    this.emit('trackPublished', track);
    return track;
  }

  async unpublishTrack(track: LocalTrack): Promise<void> {
    if (this.trackMap.get(track.source) !== track) return;
    this.trackMap.delete(track.source);
    const sid = track.sid;
    track.stop();
    if (sid && this.#context?.signal.connected) {
      await this.#context.signal.request('closeProducer', { producerId: sid }).catch(() => undefined);
    }
    this.emit('trackUnpublished', track);
  }

  /** @internal */
  close(): void {
    for (const track of this.tracks) track.stop();
    this.trackMap.clear();
    this.#context = undefined;
  }
}

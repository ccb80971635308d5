import type { types as msTypes } from 'mediasoup-client';
import { deviceErrorFrom, TelemedError } from '../errors.js';
import { LocalTrack } from '../track/LocalTrack.js';
import { Participant, type ParticipantEvents } from './Participant.js';
import type { LocalTrackMutedBy } from '../protocol/messages.js';
import type { RoomGrants } from '../protocol/token.js';
import type { SignalClient } from '../signaling/SignalClient.js';
import { Track } from '../track/Track.js';
import { svcCameraEncodings } from '../track/video-codecs.js';

export type LocalParticipantEvents = ParticipantEvents & {
  trackPublished: [LocalTrack];
  trackUnpublished: [LocalTrack];
  /** A room admin or the platform's server API muted one of your tracks (`track.mutedBy` says which); unmute it yourself when asked to speak. */
  trackMutedByAdmin: [LocalTrack];
};

/** Camera simulcast: three spatial layers the SFU picks from per subscriber (180p/360p/720p of a 720p camera). */
const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/**
 * Fewer layers for a small capture: a layer under ~90 lines is useless and some encoders (Firefox)
 * stop sending simulcast altogether when asked for one. 3 layers from 540p, 2 from 270p, else 1.
 */
export function cameraEncodings(captureHeight: number | undefined): RTCRtpEncodingParameters[] {
  const height = captureHeight ?? 720;
  if (height >= 540) return CAMERA_ENCODINGS;
  if (height >= 270)
    return [
      { rid: 'r0', scaleResolutionDownBy: 2, maxBitrate: 200_000 },
      { rid: 'r1', scaleResolutionDownBy: 1, maxBitrate: 600_000 },
    ];
  return [{ maxBitrate: 400_000 }];
}
/** Screen share: one sharp layer; text must stay readable, so resolution wins over frame rate. */
const SCREEN_ENCODINGS: RTCRtpEncodingParameters[] = [{ maxBitrate: 1_500_000 }];

export interface PublishOptions {
  source: Track.Source;
}

interface PublishContext {
  sendTransport: msTypes.Transport | undefined;
  /** The camera's codec when the app preferred one (see `preferredVideoCodec`). */
  cameraCodec?: msTypes.RtpCodecCapability | undefined;
  signal: SignalClient;
  grants: RoomGrants;
}

/** This device's user in the room: captures and publishes tracks. */
export class LocalParticipant extends Participant<LocalParticipantEvents, LocalTrack> {
  #context: PublishContext | undefined;
  #endedWatch: ReturnType<typeof setInterval> | undefined;

  /** @internal */
  constructor(sid: string, identity: string, name: string) {
    super(sid, identity, name);
  }

  /** @internal A (re)joined session: who this user is in the room, and publish through its send transport. */
  handleConnected(sid: string, identity: string, name: string, context: PublishContext): void {
    this.setSid(sid);
    this.setIdentity(identity, name);
    this.#context = context;
    this.#endedWatch ??= setInterval(() => {
      for (const track of this.tracks) track.checkEnded();
    }, 500);
  }

  /** @internal After a full rejoin: publish every track again with the same captures. */
  async republish(): Promise<void> {
    await Promise.all(
      this.tracks.map(async (track) => {
        track.clearPublished();
        try {
          await this.#produce(track);
        } catch (error) {
          console.warn(`[telemed] could not republish the ${track.source} track`, error);
        }
      }),
    );
  }

  /** Opens the camera and publishes it, or unpublishes and closes it. */
  async setCameraEnabled(enabled: boolean, constraints: MediaTrackConstraints = { width: 1280, height: 720 }): Promise<LocalTrack | undefined> {
    return this.#setSourceEnabled(Track.Source.Camera, enabled, () => navigator.mediaDevices.getUserMedia({ video: constraints }), 'camera');
  }

  /** Opens the microphone and publishes it, or unpublishes and closes it. */
  async setMicrophoneEnabled(
    enabled: boolean,
    constraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true },
  ): Promise<LocalTrack | undefined> {
    return this.#setSourceEnabled(Track.Source.Microphone, enabled, () => navigator.mediaDevices.getUserMedia({ audio: constraints }), 'microphone');
  }

  /**
   * Asks the browser for a screen, window or tab and publishes it as its own `screenShare` track,
   * or stops sharing. The browser's own "Stop sharing" button unpublishes it too.
   */
  async setScreenShareEnabled(enabled: boolean): Promise<LocalTrack | undefined> {
    return this.#setSourceEnabled(Track.Source.ScreenShare, enabled, () => navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }), 'screen');
  }

  /**
   * Switches the camera or microphone to another device without renegotiating the call (the
   * producer stays, its track is replaced).
   */
  async switchActiveDevice(kind: 'videoinput' | 'audioinput', deviceId: string): Promise<void> {
    const source = kind === 'videoinput' ? Track.Source.Camera : Track.Source.Microphone;
    const track = this.trackMap.get(source);
    if (!track) throw new TelemedError('INVALID_STATE', `no ${source} track is published`);
    const what = kind === 'videoinput' ? 'camera' : 'microphone';
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(
        kind === 'videoinput' ? { video: { deviceId: { exact: deviceId } } } : { audio: { deviceId: { exact: deviceId } } },
      );
    } catch (error) {
      throw deviceErrorFrom(error, what);
    }
    const [next] = kind === 'videoinput' ? stream.getVideoTracks() : stream.getAudioTracks();
    if (!next) throw deviceErrorFrom(new DOMException('no track', 'NotFoundError'), what);
    await track.replaceTrack(next);
  }

  async #setSourceEnabled(source: Track.Source, enabled: boolean, capture: () => Promise<MediaStream>, what: string): Promise<LocalTrack | undefined> {
    const existing = this.trackMap.get(source);
    if (!enabled) {
      if (existing) await this.unpublishTrack(existing);
      return undefined;
    }
    if (existing) return existing;
    this.#checkMayPublish(source);
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

  #checkMayPublish(source: Track.Source): void {
    const grants = this.#context?.grants;
    if (!this.#context) throw new TelemedError('INVALID_STATE', 'the room is not connected');
    if (!grants?.canPublish || (grants.canPublishSources && !grants.canPublishSources.includes(source))) {
      throw new TelemedError('FORBIDDEN', `this room token may not publish ${source}`);
    }
  }

  /** Publishes a track you captured yourself. */
  async publishTrack(mediaStreamTrack: MediaStreamTrack, options: PublishOptions): Promise<LocalTrack> {
    this.#checkMayPublish(options.source);
    if (this.trackMap.has(options.source)) throw new TelemedError('INVALID_STATE', `a ${options.source} track is published already`);
    if (options.source === Track.Source.ScreenShare && 'contentHint' in mediaStreamTrack) mediaStreamTrack.contentHint = 'detail';
    const track = new LocalTrack(mediaStreamTrack, options.source);
    this.trackMap.set(options.source, track);
    try {
      await this.#produce(track);
    } catch (error) {
      this.trackMap.delete(options.source);
      throw error;
    }
    // Capture ended outside the app (device unplugged, the browser's "Stop sharing"): unpublish.
    track.once('ended', () => void this.unpublishTrack(track));
    this.emit('trackPublished', track);
    return track;
  }

  async #produce(track: LocalTrack): Promise<void> {
    const context = this.#context;
    if (!context?.sendTransport) throw new TelemedError('FORBIDDEN', 'this room token may not publish, or the room is not connected');
    const camera = track.source === Track.Source.Camera;
    const codec = camera ? context.cameraCodec : undefined;
    const captureHeight = track.mediaStreamTrack.getSettings().height;
    const encodings = camera
      ? codec?.mimeType.toLowerCase() === 'video/vp9'
        ? svcCameraEncodings(captureHeight)
        : cameraEncodings(captureHeight)
      : track.source === Track.Source.ScreenShare
        ? SCREEN_ENCODINGS
        : undefined;
    const producer = await context.sendTransport.produce({
      track: track.mediaStreamTrack,
      ...(encodings ? { encodings } : {}),
      ...(codec ? { codec } : {}),
      ...(track.kind === 'video' ? { codecOptions: { videoGoogleStartBitrate: 1000 } } : { codecOptions: { opusDtx: true, opusFec: true, opusStereo: false } }),
      stopTracks: false,
      zeroRtpOnPause: true,
      appData: { source: track.source, ...(track.isMuted ? { paused: true } : {}) },
    });
    if (track.isMuted) producer.pause();
    track.setPublished(producer, context.signal);
  }

  async unpublishTrack(track: LocalTrack): Promise<void> {
    if (this.trackMap.get(track.source) !== track) return;
    this.trackMap.delete(track.source);
    const sid = track.sid;
    track.stop();
    if (sid && this.#context) await this.#context.signal.request('closeProducer', { producerId: sid }).catch(() => undefined);
    this.emit('trackUnpublished', track);
  }

  /** @internal */
  handleMutedByAdmin(producerId: string, by: LocalTrackMutedBy): void {
    const track = this.tracks.find((t) => t.sid === producerId);
    if (!track) return;
    track.handleMutedByAdmin(by);
    this.emit('trackMutedByAdmin', track);
  }

  /** @internal */
  close(): void {
    clearInterval(this.#endedWatch);
    this.#endedWatch = undefined;
    for (const track of this.tracks) track.stop();
    this.trackMap.clear();
    this.#context = undefined;
  }
}

import type { MediaKind, TrackSource } from '../protocol/token.js';
import { TypedEmitter } from '../TypedEmitter.js';

export type TrackEvents = {
  muted: [];
  unmuted: [];
  /** The underlying MediaStreamTrack ended (device unplugged, sharing stopped). */
  ended: [];
};

/** A media track, local or remote, that can be attached to `<video>`/`<audio>` elements. */
export abstract class Track<Events extends TrackEvents = TrackEvents> extends TypedEmitter<Events> {
  readonly kind: Track.Kind;
  readonly source: Track.Source;
  #mediaStreamTrack: MediaStreamTrack;
  #muted = false;
  readonly #attached = new Set<HTMLMediaElement>();

  protected constructor(mediaStreamTrack: MediaStreamTrack, source: Track.Source) {
    super();
    this.kind = mediaStreamTrack.kind as Track.Kind;
    this.source = source;
    this.#mediaStreamTrack = mediaStreamTrack;
  }

  get mediaStreamTrack(): MediaStreamTrack {
    return this.#mediaStreamTrack;
  }

  get isMuted(): boolean {
    return this.#muted;
  }

  get attachedElements(): readonly HTMLMediaElement[] {
    return [...this.#attached];
  }

  /** Plays this track in `element` (created when omitted) and returns it. */
  attach(element?: HTMLMediaElement): HTMLMediaElement {
    const target = element ?? document.createElement(this.kind === 'video' ? 'video' : 'audio');
    target.autoplay = true;
    if (target instanceof HTMLVideoElement) target.playsInline = true;
    target.srcObject = new MediaStream([this.#mediaStreamTrack]);
    this.#attached.add(target);
    void target.play().catch(() => {
      // Autoplay may need a user gesture for audio; the element starts when the page allows it.
    });
    return target;
  }

  /** Stops playing in `element`, or in every attached element; returns the detached elements. */
  detach(element?: HTMLMediaElement): HTMLMediaElement[] {
    const targets = element ? [element] : [...this.#attached];
    for (const target of targets) {
      if (this.#attached.delete(target)) target.srcObject = null;
    }
    return targets;
  }

  protected setMediaStreamTrack(track: MediaStreamTrack): void {
    this.#mediaStreamTrack = track;
    for (const element of this.#attached) element.srcObject = new MediaStream([track]);
  }

  protected setMuted(muted: boolean): void {
    if (this.#muted === muted) return;
    this.#muted = muted;
    (this.emit as unknown as (event: 'muted' | 'unmuted') => boolean)(muted ? 'muted' : 'unmuted');
  }
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace Track {
  export type Kind = MediaKind;
  export const Kind = { Audio: 'audio', Video: 'video' } as const;
  export type Source = TrackSource;
  export const Source = {
    Camera: 'camera',
    Microphone: 'microphone',
    ScreenShare: 'screenShare',
    ScreenShareAudio: 'screenShareAudio',
  } as const;
}

const SOURCES: readonly string[] = Object.values(Track.Source);

/** True for one of the {@link Track.Source} values. */
export function isTrackSource(value: unknown): value is Track.Source {
  return typeof value === 'string' && SOURCES.includes(value);
}

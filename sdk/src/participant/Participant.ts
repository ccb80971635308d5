import type { ConnectionQuality } from '../quality/ConnectionQuality.js';
import type { Track } from '../track/Track.js';
import { TypedEmitter } from '../TypedEmitter.js';

/** Events every participant emits, local or remote (the room emits them too, for all participants). */
export type ParticipantEvents = {
  /** Became or stopped being the room's dominant speaker. */
  isSpeakingChanged: [boolean];
  /** See {@link ConnectionQuality}. */
  connectionQualityChanged: [ConnectionQuality];
};

/** Someone in the room: this device's user or a remote one. */
export abstract class Participant<Events extends ParticipantEvents, T extends Track = Track> extends TypedEmitter<Events> {
  #sid: string;
  #identity: string;
  #name: string;
  protected readonly trackMap = new Map<Track.Source, T>();
  #quality: ConnectionQuality = 'excellent';
  #audioLevel = 0;
  #speaking = false;

  protected constructor(sid: string, identity: string, name: string) {
    super();
    this.#sid = sid;
    this.#identity = identity;
    this.#name = name;
  }

  /** The user's identity from the room token (empty for the local participant until the first connect). */
  get identity(): string {
    return this.#identity;
  }

  get name(): string {
    return this.#name;
  }

  /** The local participant learns who it is from the server's welcome. */
  protected setIdentity(identity: string, name: string): void {
    this.#identity = identity;
    this.#name = name;
  }

  /** The server's participant id for this session (a new one after a full rejoin). */
  get sid(): string {
    return this.#sid;
  }

  protected setSid(sid: string): void {
    this.#sid = sid;
  }

  get tracks(): readonly T[] {
    return [...this.trackMap.values()];
  }

  getTrack(source: Track.Source): T | undefined {
    return this.trackMap.get(source);
  }

  /** See {@link ConnectionQuality} for how it is computed. */
  get connectionQuality(): ConnectionQuality {
    return this.#quality;
  }

  /** Microphone level 0..1 from the server's audio-level observer (0 when silent). */
  get audioLevel(): number {
    return this.#audioLevel;
  }

  /** True while this participant is the room's dominant speaker. */
  get isSpeaking(): boolean {
    return this.#speaking;
  }

  /** @internal */
  setConnectionQuality(quality: ConnectionQuality): boolean {
    if (this.#quality === quality) return false;
    this.#quality = quality;
    this.#emitOwn('connectionQualityChanged', quality);
    return true;
  }

  /** @internal */
  setAudioLevel(level: number): void {
    this.#audioLevel = level;
  }

  /** @internal */
  setSpeaking(speaking: boolean): void {
    if (this.#speaking === speaking) return;
    this.#speaking = speaking;
    this.#emitOwn('isSpeakingChanged', speaking);
  }

  /** The base class emits the events of {@link ParticipantEvents}, which every subclass's map includes. */
  #emitOwn<E extends keyof ParticipantEvents>(event: E, ...args: ParticipantEvents[E]): void {
    (this as unknown as { emit(e: E, ...a: ParticipantEvents[E]): boolean }).emit(event, ...args);
  }
}

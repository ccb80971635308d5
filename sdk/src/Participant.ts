import type { ConnectionQuality } from './ConnectionQuality.js';
import type { Track } from './Track.js';
import { TypedEmitter, type EventMap } from './TypedEmitter.js';

/** Someone in the room: this device's user or a remote one. */
export abstract class Participant<Events extends EventMap, T extends Track = Track> extends TypedEmitter<Events> {
  #sid: string;
  /** The user's identity from the room token. */
  readonly identity: string;
  readonly name: string;
  protected readonly trackMap = new Map<Track.Source, T>();
  #quality: ConnectionQuality = 'excellent';
  #audioLevel = 0;
  #speaking = false;

  protected constructor(sid: string, identity: string, name: string) {
    super();
    this.#sid = sid;
    this.identity = identity;
    this.name = name;
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
    return true;
  }

  /** @internal */
  setAudioLevel(level: number): void {
    this.#audioLevel = level;
  }

  /** @internal */
  setSpeaking(speaking: boolean): void {
    this.#speaking = speaking;
  }
}

import type { Track } from './Track.js';
import { TypedEmitter, type EventMap } from './TypedEmitter.js';

/** Someone in the room: this device's user or a remote one. */
export abstract class Participant<Events extends EventMap, T extends Track = Track> extends TypedEmitter<Events> {
  /** The server's participant id for this session. */
  readonly sid: string;
  /** The user's identity from the room token. */
  readonly identity: string;
  readonly name: string;
  protected readonly trackMap = new Map<Track.Source, T>();

  protected constructor(sid: string, identity: string, name: string) {
    super();
    this.sid = sid;
    this.identity = identity;
    this.name = name;
  }

  get tracks(): readonly T[] {
    return [...this.trackMap.values()];
  }

  getTrack(source: Track.Source): T | undefined {
    return this.trackMap.get(source);
  }
}

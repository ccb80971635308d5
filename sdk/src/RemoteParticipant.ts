import type { ParticipantInfo } from './protocol/messages.js';
import { Participant } from './Participant.js';
import type { RemoteTrack } from './RemoteTrack.js';

export type RemoteParticipantEvents = {
  trackSubscribed: [RemoteTrack];
  trackUnsubscribed: [RemoteTrack];
  trackMuted: [RemoteTrack];
  trackUnmuted: [RemoteTrack];
};

/** Another participant in the room. */
export class RemoteParticipant extends Participant<RemoteParticipantEvents, RemoteTrack> {
  /** @internal */
  constructor(info: ParticipantInfo) {
    super(info.id, info.identity, info.name);
  }

  /** @internal */
  addTrack(track: RemoteTrack): void {
    this.trackMap.set(track.source, track);
    track.on('muted', () => this.emit('trackMuted', track));
    track.on('unmuted', () => this.emit('trackUnmuted', track));
    this.emit('trackSubscribed', track);
  }

  /** @internal */
  removeTrack(track: RemoteTrack): void {
    if (this.trackMap.get(track.source) !== track) return;
    this.trackMap.delete(track.source);
    track.close();
    this.emit('trackUnsubscribed', track);
  }

  /** @internal */
  trackBySid(sid: string): RemoteTrack | undefined {
    return this.tracks.find((t) => t.sid === sid);
  }

  /** @internal */
  trackByConsumerId(consumerId: string): RemoteTrack | undefined {
    return this.tracks.find((t) => t.consumerId === consumerId);
  }

  /** @internal */
  close(): void {
    for (const track of this.tracks) this.removeTrack(track);
  }
}

import type { ConnectionQuality } from '../quality/ConnectionQuality.js';
import type { ParticipantInfo, ServerLeftReason } from '../protocol/messages.js';
import { Participant, type ParticipantEvents } from './Participant.js';
import type { RemoteTrack } from '../track/RemoteTrack.js';
import { RemoteTrackPublication } from '../track/RemoteTrackPublication.js';

/**
 * Why a remote participant left: the server's reason (`left` on its own, `disconnected` when its
 * connection was lost for good, `removed` by a room admin, `replaced` by a newer session of the
 * same identity), or `roomRejoined` when this room lost its own session and rejoined (everyone
 * still there is announced again with `participantJoined`).
 */
export type ParticipantLeftReason = ServerLeftReason | 'roomRejoined';

export type RemoteParticipantEvents = ParticipantEvents & {
  trackSubscribed: [RemoteTrack];
  trackUnsubscribed: [RemoteTrack];
  trackMuted: [RemoteTrack];
  trackUnmuted: [RemoteTrack];
  /** The participant is no longer in the room. */
  left: [ParticipantLeftReason];
};

/** Another participant in the room. */
export class RemoteParticipant extends Participant<RemoteParticipantEvents, RemoteTrack> {
  readonly #publications = new Map<string, RemoteTrackPublication>();
  #reportedQuality: ConnectionQuality | undefined;

  /** @internal */
  constructor(info: ParticipantInfo) {
    super(info.id, info.identity, info.name);
    this.#reportedQuality = info.connectionQuality;
    for (const track of info.tracks) this.#publications.set(track.producerId, new RemoteTrackPublication(track));
  }

  /** Every track this participant publishes, received or not, with its mute state. */
  get trackPublications(): readonly RemoteTrackPublication[] {
    return [...this.#publications.values()];
  }

  /** The grade this participant's own SDK gives its link (relayed by the SFU), when it reported one. */
  get reportedQuality(): ConnectionQuality | undefined {
    return this.#reportedQuality;
  }

  /** @internal */
  handleReportedQuality(quality: ConnectionQuality): void {
    this.#reportedQuality = quality;
  }

  getTrackPublication(source: RemoteTrack['source']): RemoteTrackPublication | undefined {
    return this.trackPublications.find((p) => p.source === source);
  }

  /** @internal */
  addTrack(track: RemoteTrack): void {
    this.trackMap.set(track.source, track);
    let publication = this.#publications.get(track.sid);
    if (!publication) {
      publication = new RemoteTrackPublication({ producerId: track.sid, kind: track.kind, source: track.source, paused: track.isMuted });
      this.#publications.set(track.sid, publication);
    }
    publication.setMuted(track.isMuted);
    publication.setTrack(track);
    track.on('muted', () => this.emit('trackMuted', track));
    track.on('unmuted', () => this.emit('trackUnmuted', track));
    this.emit('trackSubscribed', track);
  }

  /** @internal The track's consumer closed: its producer is gone (or the session is). */
  removeTrack(track: RemoteTrack): void {
    if (this.trackMap.get(track.source) !== track) return;
    this.trackMap.delete(track.source);
    this.#publications.delete(track.sid);
    track.close();
    this.emit('trackUnsubscribed', track);
  }

  /** @internal The server paused or resumed one of this participant's producers. */
  handleTrackMuted(producerId: string, muted: boolean): void {
    const publication = this.#publications.get(producerId);
    publication?.setMuted(muted);
    publication?.track?.handleMuted(muted);
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
  close(reason?: ParticipantLeftReason): void {
    for (const track of this.tracks) this.removeTrack(track);
    if (reason) this.emit('left', reason);
  }
}

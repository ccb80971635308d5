import type { Peer } from '../Peer.js';
import type { Room } from '../Room.js';
import type { RoomManager } from '../RoomManager.js';
import type { MediaEventReporter } from './MediaEventReporter.js';

/** Turns room lifecycle events into media events for the API (room, participant, reconnection and track events). */
export function reportRoomEvents(rooms: RoomManager, reporter: MediaEventReporter): void {
  const now = (): string => new Date().toISOString();
  rooms.on('roomCreated', (room: Room) => {
    const joined = new Set<Peer>();
    reporter.report(room, { type: 'room_started', roomId: room.id, at: now() });
    room.observer.on('peerJoined', (peer) => {
      joined.add(peer);
      reporter.report(room, { type: 'participant_joined', roomId: room.id, at: now(), identity: peer.identity, participantId: peer.id });
    });
    room.observer.on('peerLeft', (peer, reason) => {
      if (!joined.delete(peer)) return;
      reporter.report(room, { type: 'participant_left', roomId: room.id, at: now(), identity: peer.identity, participantId: peer.id, reason });
    });
    room.observer.on('peerReconnected', (peer, reconnect) => {
      if (!joined.has(peer)) return;
      reporter.report(room, { type: 'participant_reconnected', roomId: room.id, at: now(), identity: peer.identity, participantId: peer.id, ...reconnect });
    });
    room.observer.on('trackPublished', (peer, producer) => {
      reporter.report(room, {
        type: 'track_published',
        roomId: room.id,
        at: now(),
        identity: peer.identity,
        participantId: peer.id,
        trackId: producer.id,
        kind: producer.kind,
        source: producer.appData.source,
      });
    });
    room.observer.on('trackUnpublished', (peer, producer) => {
      reporter.report(room, { type: 'track_unpublished', roomId: room.id, at: now(), identity: peer.identity, participantId: peer.id, trackId: producer.id });
    });
    room.observer.on('close', (reason) => {
      for (const peer of joined) {
        reporter.report(room, { type: 'participant_left', roomId: room.id, at: now(), identity: peer.identity, participantId: peer.id, reason: 'room_closed' });
      }
      joined.clear();
      reporter.report(room, { type: 'room_finished', roomId: room.id, at: now(), reason });
    });
  });
}

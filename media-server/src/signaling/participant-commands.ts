import type { ServiceMuteResponse, ServiceParticipantInfo, TrackSource } from '@telemed/sdk/protocol';
import type { Peer } from '../Peer.js';
import type { Room } from '../Room.js';

/** A joined participant as the service API lists it. */
export function serviceParticipantInfo(peer: Peer): ServiceParticipantInfo {
  return {
    participantId: peer.id,
    identity: peer.identity,
    name: peer.name,
    joinedAt: (peer.joinedAt ?? new Date()).toISOString(),
    tracks: [...peer.producers.values()].map((p) => ({ trackId: p.id, source: p.appData.source, kind: p.kind, muted: p.paused })),
  };
}

/** Why a participant command found nothing to act on. */
export type ParticipantCommandMiss = 'NO_PARTICIPANT' | 'NO_TRACK';

/**
 * The service API's mute: pauses the participant's track of that source on the server (the others
 * are told `trackMuted`) and tells the participant's SDK (`localTrackMutedByAdmin`, by `server`).
 */
export async function muteParticipantTrack(room: Room, identity: string, source: TrackSource): Promise<ServiceMuteResponse | ParticipantCommandMiss> {
  const peer = room.peerByIdentity(identity);
  if (!peer?.joined) return 'NO_PARTICIPANT';
  const producer = [...peer.producers.values()].find((p) => p.appData.source === source);
  if (!producer) return 'NO_TRACK';
  await room.setProducerPaused(peer, producer.id, true);
  peer.notify('localTrackMutedByAdmin', { producerId: producer.id, by: 'server' });
  const participant = serviceParticipantInfo(peer);
  return { participant, track: participant.tracks.find((t) => t.trackId === producer.id)! };
}

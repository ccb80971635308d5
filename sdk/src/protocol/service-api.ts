// The media server's participant commands for the API (service-secret bearer), shared by the two
// servers. Browsers never see these: a third party reaches them through the API's /api/server routes.
import type { MediaKind, TrackSource } from './token.js';

/** A published track as the service API lists it. */
export interface ServiceTrackInfo {
  /** The producer's id (what the SDK calls the track's sid). */
  trackId: string;
  source: TrackSource;
  kind: MediaKind;
  /** Paused on the server: by its publisher, a room admin, or the service API. */
  muted: boolean;
}

/** A joined participant of a room on one media node. */
export interface ServiceParticipantInfo {
  participantId: string;
  identity: string;
  name: string;
  /** ISO 8601. */
  joinedAt: string;
  tracks: ServiceTrackInfo[];
}

/** `GET /rooms/:id/participants`. */
export interface ServiceParticipantsResponse {
  roomId: string;
  participants: ServiceParticipantInfo[];
}

/** `POST /rooms/:id/participants/:identity/mute` body. */
export interface ServiceMuteRequest {
  source: TrackSource;
}

/** `POST /rooms/:id/participants/:identity/mute` answer: the track now muted. */
export interface ServiceMuteResponse {
  participant: ServiceParticipantInfo;
  track: ServiceTrackInfo;
}

/** `DELETE /rooms/:id/participants/:identity` answer: how many signaling sessions were closed. */
export interface ServiceRemoveResponse {
  removed: true;
  closed: number;
}

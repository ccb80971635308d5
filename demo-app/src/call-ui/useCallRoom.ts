// Owns the SDK Room for one call: connect, publish the chosen devices, and re-render the view on
// every room event. The view reads the Room directly; this hook only tells
// it when to look again.
import { ConnectionError, TelemedError, type ConnectionState, type Room, type LocalTrack, type Track } from '@telemed/sdk';
import { useEffect, useReducer, useState } from 'preact/hooks';
import type { CallType, RoomAccess } from '../backend/types.js';
import { errorMessage } from '../format.js';
import { audioConstraints, videoConstraints, type DeviceChoice } from './devices.js';
import { takeRoom } from './prepared-room.js';

export interface CallRoom {
  room: Room;
  state: ConnectionState;
  /** When the room first connected (ms since epoch). */
  connectedAt: number | undefined;
  error: string | undefined;
  /** Why the room closed when the server closed it (e.g. REMOVED). */
  closedCode: string | undefined;
  /** Re-render now (after a local control changed something). */
  refresh: () => void;
}

/** `refreshAccess`: a fresh access to the call's room, for the SDK to follow a media node failover. */
export function useCallRoom(access: RoomAccess, type: CallType, devices: DeviceChoice, refreshAccess?: () => Promise<RoomAccess>): CallRoom {
  const [room] = useState(() => takeRoom(access));
  const [state, setState] = useState<ConnectionState>('disconnected');
  const [connectedAt, setConnectedAt] = useState<number | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [closedCode, setClosedCode] = useState<string | undefined>();
  const [, bump] = useReducer((n: number) => n + 1, 0);

  useEffect(() => {
    const refresh = (): void => bump(undefined);
    room.on('connectionStateChanged', (s) => {
      setState(s);
      if (s === 'connected') setConnectedAt((t) => t ?? Date.now());
    });
    for (const event of [
      'participantJoined',
      'participantLeft',
      'trackSubscribed',
      'trackUnsubscribed',
      'trackMuted',
      'trackUnmuted',
      'activeSpeakerChanged',
      'connectionQualityChanged',
      'reconnected',
    ] as const) {
      room.on(event, refresh);
    }
    room.on('disconnected', (e) => {
      if (!e) return;
      setClosedCode(e.serverCode ?? e.code);
      setError(e.message);
    });
    let closed = false;
    (async () => {
      await room.connect(access.url, access.token, { iceServers: access.iceServers, ...(refreshAccess ? { refreshAccess } : {}) });
      if (closed) return;
      const local = room.localParticipant;
      local.on('trackMutedByAdmin', refresh).on('trackPublished', refresh).on('trackUnpublished', refresh);
      if (type === 'video') await local.setCameraEnabled(true, videoConstraints(devices.cameraId));
      await local.setMicrophoneEnabled(true, audioConstraints(devices.microphoneId));
      refresh();
    })().catch((e: unknown) => {
      if (closed) return;
      // Removed while still joining or publishing: connect() (or the publish) rejects, and no
      // 'disconnected' event says so, so the removal is taken from the error.
      if (e instanceof ConnectionError && e.reason === 'removed') setClosedCode(e.serverCode ?? 'REMOVED');
      setError(e instanceof TelemedError ? `${e.code}: ${e.message}` : errorMessage(e));
    });
    return () => {
      closed = true;
      room.removeAllListeners();
      void room.disconnect();
    };
  }, [room]);

  return { room, state, connectedAt, error, closedCode, refresh: () => bump(undefined) };
}

export function localTrack(room: Room, source: Track.Source): LocalTrack | undefined {
  return room.state === 'connected' || room.state === 'reconnecting' ? room.localParticipant.getTrack(source) : undefined;
}

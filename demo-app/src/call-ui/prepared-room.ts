// While the user previews the camera before a call (waiting room, ringing), the call's Room prepares
// its connection (signaling socket open, Device loaded; nobody in the call sees the user yet). The
// in-call hook takes that Room, so its connect() starts at the transports.
import { Room } from '@telemed/sdk';
import type { RoomAccess } from '../backend/types.js';

let prepared: { access: RoomAccess; room: Room } | undefined;

const same = (a: RoomAccess, b: RoomAccess): boolean => a.url === b.url && a.token === b.token;

export function prepareRoom(access: RoomAccess): void {
  if (prepared && same(prepared.access, access)) return;
  releasePreparedRoom();
  const room = new Room();
  prepared = { access, room };
  void room.prepareConnection(access.url, access.token);
}

/** The Room prepared for `access`, else a new one (connect() then takes the cold path). */
export function takeRoom(access: RoomAccess): Room {
  const mine = prepared && same(prepared.access, access) ? prepared.room : undefined;
  if (mine) prepared = undefined;
  else releasePreparedRoom();
  return mine ?? new Room();
}

/** Closes a prepared Room nobody took (the user left before joining). */
export function releasePreparedRoom(): void {
  void prepared?.room.disconnect();
  prepared = undefined;
}

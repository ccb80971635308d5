import type { Presence } from '@telemed/sdk';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/event.service.js';
import { findContacts, findUserById } from '../user/user.repository.js';
import { findPresence, updatePresence } from './presence.repository.js';
import type { PresenceRow } from './presence.table.js';

export function toPresence(row: PresenceRow): Presence {
  return { userId: row.user_id, status: row.status, lastSeenAt: row.last_seen_at?.toISOString() ?? null };
}

/** Presence changes and who hears about them (the user's contacts and the user's own devices). */
export class PresenceService {
  readonly #db: Db;
  readonly #events: EventService;

  constructor(db: Db, events: EventService) {
    this.#db = db;
    this.#events = events;
  }

  async change(userId: string, change: Parameters<typeof updatePresence>[2]): Promise<Presence> {
    const before = (await findPresence(this.#db, [userId]))[0];
    const row = await updatePresence(this.#db, userId, change);
    const presence = toPresence(row);
    if (before?.status !== row.status) await this.#broadcast(userId, presence);
    return presence;
  }

  async get(userIds: readonly string[]): Promise<Presence[]> {
    const rows = new Map((await findPresence(this.#db, userIds)).map((r) => [r.user_id, r]));
    return userIds.map((id) => {
      const row = rows.get(id);
      return row ? toPresence(row) : { userId: id, status: 'offline', lastSeenAt: null };
    });
  }

  async #broadcast(userId: string, presence: Presence): Promise<void> {
    const user = await findUserById(this.#db, userId);
    if (!user) return;
    const watchers = (await findContacts(this.#db, { id: user.id, role: user.role })).map((u) => u.id);
    await this.#events.emit([userId, ...watchers], 'presence.updated', presence);
  }
}

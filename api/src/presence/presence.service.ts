import type { Presence } from '@telemed/sdk';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import type { EventService } from '../events/event.service.js';
import { findContacts, findUserById } from '../user/user.repository.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { findPresence, updatePresence, type PresenceChange } from './presence.repository.js';
import type { PresenceRow } from './presence.table.js';

export function toPresence(row: PresenceRow): Presence {
  return { userId: row.user_id, status: row.status, lastSeenAt: row.last_seen_at?.toISOString() ?? null };
}

/** Presence changes and who hears about them (the user's contacts and the user's own devices). */
export class PresenceService {
  readonly #db: Kysely<Database>;
  readonly #events: EventService;
  readonly #registry: ConnectionRegistry | undefined;

  /** With a registry (Redis), each instance's connections are tracked so a dead instance's can be reaped. */
  constructor(db: Kysely<Database>, events: EventService, registry?: ConnectionRegistry) {
    this.#db = db;
    this.#events = events;
    this.#registry = registry;
  }

  /** An /events socket of the user opened on this instance. */
  async connected(userId: string): Promise<void> {
    // Registry first: if we die between the two, the reaper over-subtracts (clamped at 0) rather than leaving the user online.
    await this.#registry?.opened(userId);
    await this.change(userId, { connectionsDelta: 1 });
  }

  async disconnected(userId: string): Promise<void> {
    await this.#registry?.closed(userId);
    await this.change(userId, { connectionsDelta: -1 });
  }

  /** Shifts the shared counts by whole instances (a reaped dead one, or this one restored). */
  async adjustConnections(connections: Map<string, number>, sign: 1 | -1): Promise<void> {
    for (const [userId, count] of connections) await this.change(userId, { connectionsDelta: sign * count });
  }

  /**
   * The change and its `presence.updated` event commit together under the row's lock, so the
   * events of concurrent changes are stored (and delivered) in the order the changes happened.
   */
  async change(userId: string, change: PresenceChange): Promise<Presence> {
    const { presence, messages } = await this.#db.transaction().execute(async (trx) => {
      const { previous, row } = await updatePresence(trx, userId, change);
      const presence = toPresence(row);
      if (previous === row.status) return { presence, messages: [] };
      const user = await findUserById(trx, userId);
      if (!user) return { presence, messages: [] };
      const watchers = (await findContacts(trx, { id: user.id, role: user.role })).map((u) => u.id);
      return { presence, messages: await this.#events.store(trx, [{ userIds: [userId, ...watchers], type: 'presence.updated', payload: presence }]) };
    });
    await this.#events.publish(messages);
    return presence;
  }

  async get(userIds: readonly string[]): Promise<Presence[]> {
    const rows = new Map((await findPresence(this.#db, userIds)).map((r) => [r.user_id, r]));
    return userIds.map((id) => {
      const row = rows.get(id);
      return row ? toPresence(row) : { userId: id, status: 'offline', lastSeenAt: null };
    });
  }
}

import type { Db } from '../db/database.js';
import type { ControlMessage, EventBus } from '../events/event-bus.js';
import { ApiError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import type { VerifiedAccessToken } from './access-token.js';
import { isSessionOpen, revokeFamily, revokeUserFamilies } from './refresh-token.repository.js';

export interface SessionGuardOptions {
  db: Db;
  bus: EventBus;
  logger: Logger;
  /**
   * How long an answer from the database is trusted. Revocations reach every instance at once
   * through the bus; this bounds how long one whose message was lost (Redis down) goes unnoticed.
   */
  ttlMs: number;
  /** Most sessions remembered; the oldest is forgotten first (it is then read again). */
  maxEntries?: number;
}

/** Why every session of a user ends: the hooks account management calls. */
export type RevokeReason = 'password-reset' | 'account-disabled' | 'admin';

export interface Revocation {
  userId: string;
  /** Undefined when every session of the user ended. */
  sessionId?: string;
}

interface Entry {
  userId: string;
  open: boolean | Promise<boolean>;
  checkedAt: number;
}

/**
 * Whether an access token's session is still open, so that logout, a reused refresh token, a
 * password reset or a disabled account stop its access tokens within moments instead of at their
 * expiry. The answer is cached per session: a request costs a map lookup, not a query. A
 * revocation is written to the database first, then announced on the bus; every instance marks the
 * session closed and tells its listeners (the events gateway closes that session's sockets).
 */
export class SessionGuard {
  readonly #options: SessionGuardOptions;
  readonly #sessions = new Map<string, Entry>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #listeners: Array<(revocation: Revocation) => void> = [];

  constructor(options: SessionGuardOptions) {
    this.#options = options;
    options.bus.subscribeControl((message) => this.#apply(message));
  }

  /** Throws 401 when the token's session was revoked or the account disabled. */
  async check(token: VerifiedAccessToken): Promise<void> {
    const { sessionId, user } = token;
    let entry = this.#sessions.get(sessionId);
    if (!entry || entry.userId !== user.id || Date.now() - entry.checkedAt >= this.#options.ttlMs) entry = this.#load(sessionId, user.id);
    const open = typeof entry.open === 'boolean' ? entry.open : await entry.open;
    if (!open) throw new ApiError('UNAUTHORIZED', 'the session has ended; log in again');
  }

  /** Ends one session (its refresh-token family must already be revoked in `db`'s transaction, committed). */
  async sessionRevoked(sessionId: string, userId: string): Promise<void> {
    await this.#announce({ kind: 'session-revoked', sessionId, userId });
  }

  /**
   * Ends every session of a user: their refresh tokens stop working at once and their access
   * tokens and sockets within moments, on every instance. Call it on a password reset, when an
   * account is disabled, or to sign a user out everywhere. Answers how many sessions were open.
   */
  async revokeUserSessions(userId: string, reason: RevokeReason): Promise<number> {
    const ended = await revokeUserFamilies(this.#options.db, userId);
    this.#options.logger.info({ userId, reason, sessions: ended }, 'user sessions revoked');
    await this.#announce({ kind: 'user-revoked', userId });
    return ended;
  }

  /** Ends the session of a refresh-token family in the database and everywhere. */
  async revokeSession(sessionId: string, userId: string): Promise<void> {
    await revokeFamily(this.#options.db, sessionId);
    await this.sessionRevoked(sessionId, userId);
  }

  /** Called for every revocation this instance learns of (its own ones included). */
  onRevoked(listener: (revocation: Revocation) => void): void {
    this.#listeners.push(listener);
  }

  async #announce(message: ControlMessage): Promise<void> {
    // Applied here at once: the bus may be down, and this instance answered the logout.
    this.#apply(message);
    await this.#options.bus.publishControl(message);
  }

  #apply(message: ControlMessage): void {
    if (message.kind === 'resync') {
      this.#sessions.clear();
      this.#byUser.clear();
      return;
    }
    const now = Date.now();
    const ended = message.kind === 'session-revoked' ? [message.sessionId] : [...(this.#byUser.get(message.userId) ?? [])];
    // A closed session never reopens: remembering it closed also wins over a read still in flight.
    // Sessions of the user not seen here yet are read from the database, where they are revoked.
    for (const sessionId of ended) this.#remember(sessionId, { userId: message.userId, open: false, checkedAt: now });
    const revocation: Revocation = message.kind === 'session-revoked' ? { userId: message.userId, sessionId: message.sessionId } : { userId: message.userId };
    for (const listener of this.#listeners) {
      try {
        listener(revocation);
      } catch (err) {
        this.#options.logger.warn({ err }, 'session revocation listener failed');
      }
    }
  }

  #load(sessionId: string, userId: string): Entry {
    const entry: Entry = { userId, open: true, checkedAt: Date.now() };
    entry.open = isSessionOpen(this.#options.db, sessionId, userId).then(
      (open) => {
        if (this.#sessions.get(sessionId) === entry) entry.open = open;
        return open;
      },
      (error: unknown) => {
        if (this.#sessions.get(sessionId) === entry) this.#forget(sessionId);
        throw error;
      },
    );
    this.#remember(sessionId, entry);
    return entry;
  }

  #remember(sessionId: string, entry: Entry): void {
    const previous = this.#sessions.get(sessionId);
    this.#sessions.delete(sessionId);
    if (previous && previous.userId !== entry.userId) this.#byUser.get(previous.userId)?.delete(sessionId);
    if (this.#sessions.size >= (this.#options.maxEntries ?? 100_000)) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
    this.#sessions.set(sessionId, entry);
    let sessions = this.#byUser.get(entry.userId);
    if (!sessions) this.#byUser.set(entry.userId, (sessions = new Set()));
    sessions.add(sessionId);
  }

  #forget(sessionId: string): void {
    const entry = this.#sessions.get(sessionId);
    if (!entry) return;
    this.#sessions.delete(sessionId);
    const sessions = this.#byUser.get(entry.userId);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) this.#byUser.delete(entry.userId);
  }
}

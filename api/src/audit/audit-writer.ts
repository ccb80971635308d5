import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { auditEntry, insertAuditEntries, type AuditAction, type AuditEntity, type AuditEntry, type AuditOrigin } from './audit.service.js';

interface Waiting {
  entry: AuditEntry;
  resolve(): void;
  reject(error: unknown): void;
}

export interface AuditWriterOptions {
  /** Rows (records) per insert at most; a request's rows are never split. */
  maxRows?: number;
  /** Inserts running at once at most (each holds a pool connection; one alone cannot keep up with many pages a second). */
  concurrency?: number;
}

/**
 * Audit rows written outside a transaction (reads, downloads, logins), group-committed: rows that
 * arrive while `concurrency` inserts run go together in the next one. Each caller still waits for the commit
 * that holds its rows, so nothing is answered before it is on record; under load many requests
 * share one insert and one commit (one WAL flush, one pool connection) instead of one each.
 */
export class AuditWriter {
  readonly #db: Kysely<Database>;
  readonly #maxRows: number;
  readonly #concurrency: number;
  #queue: Waiting[] = [];
  readonly #writing = new Set<Promise<void>>();

  constructor(db: Kysely<Database>, options: AuditWriterOptions = {}) {
    this.#db = db;
    this.#maxRows = options.maxRows ?? 2000;
    this.#concurrency = options.concurrency ?? 3;
  }

  /** Resolves once the rows are committed; rejects when their insert failed. */
  write(ctx: AuditOrigin, actorId: string | null, action: AuditAction, entityType: AuditEntity, entityIds: string | readonly string[]): Promise<void> {
    const entry = auditEntry(ctx, actorId, action, entityType, entityIds);
    if (entry.entityIds.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      this.#start();
    });
  }

  /** Resolves once every row handed over so far is written (call it before closing the database). */
  async close(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all(this.#writing);
  }

  #start(): void {
    if (this.#writing.size >= this.#concurrency || this.#queue.length === 0) return;
    const writing: Promise<void> = this.#writeBatch().finally(() => {
      this.#writing.delete(writing);
      this.#start();
    });
    this.#writing.add(writing);
  }

  async #writeBatch(): Promise<void> {
    let taken = 0;
    let count = 0;
    while (taken < this.#queue.length && (taken === 0 || count + this.#queue[taken]!.entry.entityIds.length <= this.#maxRows)) {
      count += this.#queue[taken]!.entry.entityIds.length;
      taken++;
    }
    const batch = this.#queue.slice(0, taken);
    this.#queue = this.#queue.slice(taken);
    try {
      await insertAuditEntries(
        this.#db,
        batch.map((w) => w.entry),
      );
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}

import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

const MARK = '/* prepared:';
/** Distinct statement texts prepared per process at most (the same texts on every connection). */
const MAX_PREPARED = 64;

/**
 * The pg pool as Kysely's PostgresDialect sees it, except that a statement whose text starts with
 * a `/* prepared:<name> *\/` comment runs as a named prepared statement: PostgreSQL parses it once
 * per connection and its plan cache reuses the plan, where an unnamed statement is parsed and
 * planned on every call (for a send's write, planning took longer than executing it). Mark only
 * hot statements whose text never varies with the data (arrays as one parameter, no IN lists):
 * write the comment first in their `sql` template.
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    if (!text.startsWith(MARK)) return undefined;
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED) {
      name = `telemed_${names.size}_${text.slice(MARK.length, text.indexOf(' */'))}`;
      names.set(text, name);
    }
    return name;
  };
  const wrap = (client: pg.PoolClient): PostgresPoolClient => new PreparingClient(client, client, nameOf);
  return {
    options: pool.options,
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}

class PreparingClient implements PostgresPoolClient {
  readonly #base: PostgresPoolClient;
  readonly #client: pg.PoolClient;
  readonly #nameOf: (text: string) => string | undefined;

  /** `base` and `client` are the same pg client, as Kysely types it and as pg does. */
  constructor(base: PostgresPoolClient, client: pg.PoolClient, nameOf: (text: string) => string | undefined) {
    this.#base = base;
    this.#client = client;
    this.#nameOf = nameOf;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') return this.#base.query(sqlOrCursor);
    const name = this.#nameOf(sqlOrCursor);
    if (name === undefined) return this.#base.query<R>(sqlOrCursor, parameters);
    return this.#client.query({ name, text: sqlOrCursor, values: [...parameters] }) as unknown as Promise<PostgresQueryResult<R>>;
  }

  release(destroy?: boolean): void {
    this.#client.release(destroy);
  }
}

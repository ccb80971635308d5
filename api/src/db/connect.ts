import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { lockDataDir } from './pglite-lock.js';
import { PGliteDialect } from './pglite-dialect.js';
import { preparingPool } from './prepared.js';

export interface DatabaseOptions {
  /** A PostgreSQL URL; when absent, PGlite runs in-process with its data under `dir`. */
  url?: string | undefined;
  /** PGlite data directory, or `memory://` for a throwaway database. */
  dir: string;
  poolSize: number;
  /** PGlite only: a data-directory dump to start from (much faster than initdb). */
  template?: Blob | undefined;
  logger: Logger;
  /** Queries at least this slow are logged (SQL text only) and counted as slow. */
  slowQueryMs?: number | undefined;
  /** Every finished query, for metrics (`error` set when it failed). */
  onQuery?: ((event: { seconds: number; slow: boolean; error?: unknown }) => void) | undefined;
  /** PostgreSQL: a pool connection could not be opened (the query never ran). */
  onConnectError?: ((error: unknown) => void) | undefined;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  /** Pool gauges for /metrics (PGlite has one session). */
  poolStats(): { total: number; idle: number; waiting: number };
  /** PGlite only: a consistent copy of the data directory (gzipped tar), for backups. */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

const INT8_OID = 20;

/** Opens the database: pg when a URL is given, PGlite otherwise. bigint columns come back as numbers on both. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const slowQueryMs = options.slowQueryMs ?? 1000;
  const log = (event: LogEvent): void => {
    // The SQL text only: parameters may hold secrets or message ciphertext.
    const ms = Math.round(event.queryDurationMillis);
    const slow = event.queryDurationMillis >= slowQueryMs;
    if (event.level === 'error') options.logger.warn({ err: event.error, ms, sql: event.query.sql }, 'query failed');
    else if (slow) options.logger.warn({ ms, sql: event.query.sql }, 'slow query');
    options.onQuery?.({ seconds: event.queryDurationMillis / 1000, slow, ...(event.level === 'error' ? { error: event.error } : {}) });
  };
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    pool.on('error', (err) => options.logger.warn({ err }, 'idle database client error'));
    // A checked-out connection that the server ends between two queries (restart, terminated
    // backend) emits 'error' with no listener: without this one, the process would die of it.
    // The pool drops the dead connection on release; the next query on it reports the failure.
    pool.on('connect', (client) => client.on('error', (err) => options.logger.warn({ err }, 'database connection lost')));
    const prepared = preparingPool(pool);
    const connect = async (): ReturnType<typeof prepared.connect> => {
      try {
        return await prepared.connect();
      } catch (err) {
        options.logger.warn({ err }, 'could not open a database connection');
        options.onConnectError?.(err);
        throw err;
      }
    };
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: { ...prepared, connect } }), log });
    return {
      db,
      kind: 'postgres',
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  const inMemory = options.dir.startsWith('memory://');
  const fresh = inMemory || !fs.existsSync(path.join(options.dir, 'PG_VERSION'));
  if (!inMemory) fs.mkdirSync(options.dir, { recursive: true });
  const unlock = inMemory ? () => undefined : lockDataDir(options.dir);
  let pglite: PGlite;
  try {
    const template = options.template ?? (fresh ? readInitdbCache() : undefined);
    pglite = await PGlite.create(options.dir, {
      parsers: { [INT8_OID]: (value: string) => Number(value) },
      ...(template ? { loadDataDir: template } : {}),
    });
    if (fresh && !template) await writeInitdbCache(pglite, options.logger);
  } catch (error) {
    unlock();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), log });
  return {
    db,
    kind: 'pglite',
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    dumpDataDir: () => pglite.dumpDataDir('gzip'),
    close: async () => {
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}

// A fresh PGlite cluster runs initdb in WebAssembly (~10 s on a small machine). The first one is
// kept as a tarball under ~/.cache/telemed/ and later fresh clusters start from it (~1 s).
const INITDB_CACHE = path.join(process.env.TELEMED_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'telemed'), `pglite-initdb-${pgliteVersion()}.tar`);

/** The installed PGlite's version (its package.json is not exported: found beside its entry point). */
function pgliteVersion(): string {
  try {
    let dir = path.dirname(new URL(import.meta.resolve('@electric-sql/pglite')).pathname);
    while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function readInitdbCache(): Blob | undefined {
  try {
    return new Blob([fs.readFileSync(INITDB_CACHE)]);
  } catch {
    return undefined;
  }
}

async function writeInitdbCache(pglite: PGlite, logger: Logger): Promise<void> {
  try {
    const dump = await pglite.dumpDataDir('none');
    fs.mkdirSync(path.dirname(INITDB_CACHE), { recursive: true });
    const partial = `${INITDB_CACHE}.${process.pid}.tmp`;
    fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(partial, INITDB_CACHE);
  } catch (err) {
    logger.debug({ err }, 'could not cache the PGlite initdb template');
  }
}

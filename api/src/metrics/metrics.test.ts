// The API's database metrics and probes against a real PostgreSQL: slow queries past the
// configured threshold, pool waiters, failed queries by kind, the database going away and back;
// liveness that holds while the media server is down.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresDatabase, startTestApp, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

const SLOW_QUERY_MS = 100;

const series = async (url: string): Promise<Map<string, number>> => {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
};

describe('API database metrics on PostgreSQL', () => {
  let t: TestApp;
  let databaseUrl: string;
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  const value = async (name: string): Promise<number> => (await series(t.url)).get(name) ?? Number.NaN;

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    // One connection: a second query has to wait for it.
    t = await startTestApp('postgres', { databaseUrl, databasePoolSize: 1, slowQueryMs: SLOW_QUERY_MS });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await t?.close();
  });

  it('counts queries past SLOW_QUERY_MS as slow and times every query', async () => {
    const before = await series(t.url);
    await sql`select 1`.execute(t.app.db);
    await sql`select pg_sleep(${(SLOW_QUERY_MS * 2) / 1000})`.execute(t.app.db);
    const after = await series(t.url);
    expect(after.get('telemed_api_db_slow_queries_total')).toBe((before.get('telemed_api_db_slow_queries_total') ?? 0) + 1);
    // Two queries here plus the probe of the first scrape.
    expect(after.get('telemed_api_db_query_duration_seconds_count')! - before.get('telemed_api_db_query_duration_seconds_count')!).toBeGreaterThanOrEqual(2);
    const under = (s: Map<string, number>): number => s.get('telemed_api_db_query_duration_seconds_bucket{le="0.1"}') ?? 0;
    const all = (s: Map<string, number>): number => s.get('telemed_api_db_query_duration_seconds_count') ?? 0;
    expect(all(after) - under(after) - (all(before) - under(before))).toBe(1);
  });

  it('shows queries waiting for a pool connection', async () => {
    const waiting = async (): Promise<number> => {
      const text = await t.app.metrics.registry.getSingleMetricAsString('telemed_api_db_pool_connections');
      return Number(/state="waiting"} (\d+)/.exec(text)?.[1]);
    };
    expect(await waiting()).toBe(0);
    await t.app.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      const queued = sql`select 2`.execute(t.app.db);
      await waitFor('a waiter', async () => ((await waiting()) === 1 ? true : undefined), { timeoutMs: 10_000 });
      void queued.catch(() => undefined);
    });
    await waitFor('no waiter', async () => ((await waiting()) === 0 ? true : undefined), { timeoutMs: 10_000 });
  });

  it('tells failed queries from an unavailable database, and probes the database at each scrape', async () => {
    expect(await value('telemed_api_db_up')).toBe(1);
    const before = await series(t.url);
    await expect(sql`select * from no_such_table`.execute(t.app.db)).rejects.toThrow();
    const name = new URL(databaseUrl).pathname.slice(1);
    await admin.query(`alter database ${name} allow_connections false`);
    try {
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await expect(sql`select 1`.execute(t.app.db)).rejects.toThrow();
      const down = await series(t.url);
      expect(down.get('telemed_api_db_up')).toBe(0);
      expect(down.get('telemed_api_db_query_errors_total{kind="query"}')).toBe(before.get('telemed_api_db_query_errors_total{kind="query"}')! + 1);
      expect(down.get('telemed_api_db_query_errors_total{kind="unavailable"}')).toBeGreaterThan(
        before.get('telemed_api_db_query_errors_total{kind="unavailable"}')!,
      );
      expect((await fetch(`${t.url}/ready`)).status).toBe(503);
      expect((await fetch(`${t.url}/live`)).status).toBe(200);
    } finally {
      await admin.query(`alter database ${name} allow_connections true`);
    }
    await waitFor('the database back', async () => ((await value('telemed_api_db_up')) === 1 ? true : undefined), { timeoutMs: 10_000 });
  });

  it('/live answers while the media server is down; /health says degraded', async () => {
    // This App's media server URL points at a closed port.
    const live = await fetch(`${t.url}/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'live' });
    expect((await fetch(`${t.url}/health`)).status).toBe(503);
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
  });
});

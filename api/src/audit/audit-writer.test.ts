import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startTestApp, type TestApp } from '../testing/test-app.js';
import { AuditWriter } from './audit-writer.js';
import { findAuditTrail } from './audit.service.js';

describe.each(DATABASES)('audit writer on %s', (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(database);
  });
  afterAll(async () => t?.close());

  const actor = '00000000-0000-4000-8000-00000000a0d1';
  const rowsOf = (requestId: string) => t.app.db.selectFrom('audit_log').selectAll().where('request_id', '=', requestId).orderBy('entity_id').execute();

  it('writes concurrent requests in shared inserts of at most maxRows rows, each caller answered after its commit', async () => {
    const writer = new AuditWriter(t.app.db, { maxRows: 10, concurrency: 2 });
    const prefix = crypto.randomUUID();
    const before = new Date();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        writer.write(
          { ip: '10.0.0.7', state: { requestId: `${prefix}-${i}` } },
          actor,
          'read',
          'message',
          ['1', '2', '3'].map((n) => `${i}.${n}`),
        ),
      ),
    );
    for (let i = 0; i < 12; i++) {
      // One row per request: its records listed in entity_ids, entity_id '*'.
      const rows = await rowsOf(`${prefix}-${i}`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor_id: actor,
        action: 'read',
        entity_type: 'message',
        entity_id: '*',
        entity_ids: [`${i}.1`, `${i}.2`, `${i}.3`],
        ip: '10.0.0.7',
      });
      expect(rows[0]!.at >= new Date(before.getTime() - 1000)).toBe(true);
    }
    // Rows committed by one insert share its transaction id (xmin): the records per insert.
    const inserts = await sql<{
      n: number;
    }>`select sum(coalesce(cardinality(entity_ids), 1))::int as n from audit_log where request_id like ${`${prefix}-%`} group by xmin::text`.execute(t.app.db);
    const sizes = inserts.rows.map((r) => r.n);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(36);
    expect(sizes.length).toBeLessThan(12);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    await writer.close();
  });

  it('rejects the callers of a failed insert, keeps writing the others, and close() waits for what was handed over', async () => {
    const writer = new AuditWriter(t.app.db, { maxRows: 1, concurrency: 1 });
    const requestId = crypto.randomUUID();
    const bad = writer.write({ ip: '10.0.0.8', state: {} }, 'not-a-uuid', 'read', 'call', 'x');
    const good = writer.write({ ip: '10.0.0.8', state: { requestId } }, actor, 'download', 'attachment', 'a1');
    await expect(bad).rejects.toThrow();
    const late = writer.write({ ip: '10.0.0.8', state: { requestId } }, actor, 'download', 'attachment', 'a2');
    await writer.close();
    await good;
    await late;
    expect((await rowsOf(requestId)).map((r) => [r.entity_id, r.entity_ids])).toEqual([
      ['a1', null],
      ['a2', null],
    ]);
    await expect(writer.write({ ip: '', state: {} }, actor, 'read', 'call', [])).resolves.toBeUndefined();
  });

  it('answers who touched a record, whether it was read alone or in a page', async () => {
    const writer = new AuditWriter(t.app.db);
    const ids = [`page-${crypto.randomUUID()}`, `page-${crypto.randomUUID()}`, `page-${crypto.randomUUID()}`];
    await writer.write({ ip: '10.0.0.9', state: { requestId: crypto.randomUUID() } }, actor, 'read', 'message', ids);
    await writer.write({ ip: '10.0.0.10', state: { requestId: crypto.randomUUID() } }, actor, 'update', 'message', ids[1]!);
    await writer.write({ ip: '10.0.0.11', state: {} }, actor, 'read', 'call', ids[1]!);
    await writer.close();
    const trail = await findAuditTrail(t.app.db, 'message', ids[1]!);
    expect(trail.map((r) => [r.action, r.ip, r.entity_id])).toEqual([
      ['read', '10.0.0.9', '*'],
      ['update', '10.0.0.10', ids[1]],
    ]);
    expect((await findAuditTrail(t.app.db, 'message', ids[2]!)).map((r) => r.action)).toEqual(['read']);
    expect(await findAuditTrail(t.app.db, 'message', 'page-none')).toEqual([]);
  });
});

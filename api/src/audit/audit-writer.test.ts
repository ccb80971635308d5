import { InsertQueryNode, OperationNodeTransformer, ValuesNode, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startTestApp, type TestApp } from '../testing/test-app.js';
import { AuditWriter } from './audit-writer.js';

/** Observes (does not change) the statements sent: how many rows each audit_log insert carries. */
class InsertSizes implements KyselyPlugin {
  readonly sizes: number[] = [];

  transformQuery({ node }: { node: RootOperationNode }): RootOperationNode {
    if (InsertQueryNode.is(node) && node.into?.table.identifier.name === 'audit_log' && node.values && ValuesNode.is(node.values)) this.sizes.push(node.values.values.length);
    return new OperationNodeTransformer().transformNode(node);
  }

  async transformResult<T>({ result }: { result: T }): Promise<T> {
    return result;
  }
}

describe.each(DATABASES)('audit writer on %s', (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(database);
  });
  afterAll(async () => t?.close());

  const actor = '00000000-0000-4000-8000-00000000a0d1';
  const rowsOf = (requestId: string) => t.app.db.selectFrom('audit_log').selectAll().where('request_id', '=', requestId).orderBy('entity_id').execute();

  it('writes concurrent requests in shared inserts of at most maxRows rows, each caller answered after its commit', async () => {
    const sizes = new InsertSizes();
    const writer = new AuditWriter(t.app.db.withPlugin(sizes), { maxRows: 10, concurrency: 2 });
    const prefix = crypto.randomUUID();
    const before = new Date();
    await Promise.all(Array.from({ length: 12 }, (_, i) => writer.write({ ip: '10.0.0.7', state: { requestId: `${prefix}-${i}` } }, actor, 'read', 'message', ['1', '2', '3'].map((n) => `${i}.${n}`))));
    for (let i = 0; i < 12; i++) {
      const rows = await rowsOf(`${prefix}-${i}`);
      expect(rows.map((r) => r.entity_id)).toEqual([`${i}.1`, `${i}.2`, `${i}.3`]);
      expect(rows.every((r) => r.actor_id === actor && r.action === 'read' && r.entity_type === 'message' && r.ip === '10.0.0.7' && r.at >= new Date(before.getTime() - 1000))).toBe(true);
    }
    expect(sizes.sizes.reduce((a, b) => a + b, 0)).toBe(36);
    expect(sizes.sizes.length).toBeLessThan(12);
    expect(Math.max(...sizes.sizes)).toBeLessThanOrEqual(10);
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
    expect((await rowsOf(requestId)).map((r) => r.entity_id)).toEqual(['a1', 'a2']);
    await expect(writer.write({ ip: '', state: {} }, actor, 'read', 'call', [])).resolves.toBeUndefined();
  });
});

// EXPLAIN (ANALYZE, BUFFERS) of the queries the API issues for list-messages and call history:
// the API's own repository functions (api/dist) run on a Kysely of the same version whose log
// hook captures each compiled statement with its parameters; each is then explained as sent.
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { findParticipants, listCalls } from '../../../api/dist/call/call.repository.js';
import type { Database } from '../../../api/dist/db/database.js';
import { listMessages } from '../../../api/dist/message/message.repository.js';

export interface ExplainedQuery {
  endpoint: string;
  step: string;
  sql: string;
  parameters: unknown[];
  plan: string;
  /** Index names the plan reads (`Index Scan using x`, `Index Only Scan using x`, `Bitmap Index Scan on x`). */
  indexes: string[];
  /** Tables read by a sequential scan (none expected). */
  seqScans: string[];
  executionMs: number;
}

interface ExplainInput {
  endpoint: string;
  run(db: Kysely<Database>): Promise<unknown>;
  steps: string[];
}

export async function explainApiQueries(databaseUrl: string, sample: { userId: string; conversationId: string; before: number }): Promise<ExplainedQuery[]> {
  let captured: CompiledQuery[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (event) => void captured.push(event.query) });
  const inputs: ExplainInput[] = [
    {
      endpoint: 'list-messages',
      steps: ['page of 50 + 1 before the cursor, members only (listMessages with memberId)'],
      run: async (d) => {
        await listMessages(d, sample.conversationId, { before: sample.before, limit: 51, memberId: sample.userId });
      },
    },
    {
      endpoint: 'call-history',
      steps: ['first page of 20 + 1, newest first (listCalls, participantOf)', 'participants of the page (findParticipants)'],
      run: async (d) => {
        const rows = await listCalls(d, { participantOf: sample.userId, limit: 21 });
        await findParticipants(
          d,
          rows.slice(0, 20).map((r) => r.id),
        );
      },
    },
  ];
  const explained: ExplainedQuery[] = [];
  try {
    for (const input of inputs) {
      captured = [];
      await input.run(db);
      const queries = captured;
      for (const [i, query] of queries.entries()) {
        const result = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${query.sql}`, [...query.parameters]);
        const plan = result.rows.map((r) => r['QUERY PLAN']).join('\n');
        explained.push({
          endpoint: input.endpoint,
          step: input.steps[i] ?? `query ${i + 1}`,
          sql: query.sql,
          parameters: [...query.parameters],
          plan,
          indexes: [...new Set([...plan.matchAll(/(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\S+)/g)].map((m) => m[1] ?? ''))],
          seqScans: [...new Set([...plan.matchAll(/Seq Scan on (\S+)/g)].map((m) => m[1] ?? ''))],
          executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN),
        });
      }
    }
  } finally {
    await db.destroy();
  }
  return explained;
}

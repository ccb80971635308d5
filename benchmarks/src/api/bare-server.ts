// The baseline for bench:api: a bare Koa app whose routes run the same SQL statements as the API's
// send-message, list-messages and call-history routes with `pg`, and nothing else: no access token,
// no membership check, no validation, no encryption or decryption, no transaction, no realtime
// events (user_events rows), no audit rows, no request logging or metrics.
// Usage: node bare-server.js <database url> <pool size>; prints "listening <port>".
import Router from '@koa/router';
import Koa from 'koa';
import pg from 'pg';

const [databaseUrl = '', poolSize = '10'] = process.argv.slice(2);
const INT8_OID = 20;
const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: Number(poolSize),
  types: {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  },
});

async function readBody(ctx: Koa.Context): Promise<{ clientId: string; body: string }> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { clientId: string; body: string };
}

const router = new Router();
router.post('/api/conversations/:id/messages', async (ctx) => {
  const input = await readBody(ctx);
  const result = await pool.query(
    'insert into "messages" ("conversation_id", "sender_id", "client_id", "body_ciphertext", "key_id", "attachment_id") values ($1, $2, $3, $4, $5, $6) on conflict ("conversation_id", "sender_id", "client_id") do nothing returning *',
    [ctx.params.id, ctx.get('x-user-id'), input.clientId, input.body, 'k1', null],
  );
  ctx.status = 201;
  ctx.body = result.rows[0];
});
router.get('/api/conversations/:id/messages', async (ctx) => {
  const limit = Number(ctx.query.limit ?? 50);
  const result = await pool.query('select * from "messages" where "conversation_id" = $1 and "id" < $2 order by "id" desc limit $3', [
    ctx.params.id,
    Number(ctx.query.before),
    limit + 1,
  ]);
  ctx.body = { items: result.rows.slice(0, limit), nextCursor: result.rows.length > limit ? String(result.rows[limit - 1].id) : null };
});
router.get('/api/calls', async (ctx) => {
  const limit = Number(ctx.query.limit ?? 20);
  const calls = await pool.query<{ id: string }>(
    'select * from "calls" where "id" in (select "call_id" from "call_participants" where "user_id" = $1) order by "created_at" desc, "id" desc limit $2',
    [ctx.get('x-user-id'), limit + 1],
  );
  const page = calls.rows.slice(0, limit);
  const ids = page.map((c) => c.id);
  const participants =
    ids.length === 0
      ? { rows: [] }
      : await pool.query(
          `select "p".*, "u"."display_name" from "call_participants" as "p" inner join "users" as "u" on "u"."id" = "p"."user_id" where "p"."call_id" in (${ids.map((_, i) => `$${i + 1}`).join(', ')}) order by "p"."role", "p"."invited_at", "p"."user_id"`,
          ids,
        );
  ctx.body = { items: page.map((c) => ({ ...c, participants: participants.rows.filter((p: { call_id: string }) => p.call_id === c.id) })), nextCursor: null };
});

const app = new Koa();
app.use(router.routes()).use(router.allowedMethods());
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

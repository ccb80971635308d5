import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, Conversation, Session } from '@telemed/sdk';
import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER } from '@telemed/sdk/protocol';
import { signBodyToken } from '@telemed/server-kit';
import { createLogger } from '../logger.js';
import { dereference } from '../testing/openapi-responses.js';
import { fuzzOpenApi, type FuzzReport } from '../testing/openapi-fuzz/fuzz.js';
import type { Credential } from '../testing/openapi-fuzz/requests.js';
import type { Pools } from '../testing/openapi-fuzz/schema-arbitrary.js';
import { TEST_SECRETS, client, login, startTestApp, type TestApp, type TestDatabase } from '../testing/test-app.js';

/**
 * Property-based fuzzing driven by the served OpenAPI document: for every operation, with every
 * role's token, none, a forged one and the media server's signature, valid and invalid inputs go
 * over real HTTP to a real API. Every answer must keep the contract: no 5xx, the error shape on
 * every 4xx, 2xx bodies valid against the document. Then the server must still serve.
 *
 * FUZZ_SEED=<n> replays a run (the seed is printed with every result); FUZZ_SECONDS=<n> sets the
 * PGlite run's budget (default 40; PostgreSQL gets 45 % of it) for long runs.
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 40);
const MAX_UPLOAD_BYTES = 32 * 1024;
const RUNS: Array<[TestDatabase, number]> = [
  ['pglite', SECONDS],
  ['postgres', Math.max(5, Math.round(SECONDS * 0.45))],
];
// No media server runs beside the API in unit tests: liveness answers 503 (degraded), as documented in its summary.
const ALLOWED_5XX = { 'GET /health': [503] };

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

function summary(database: string, report: FuzzReport): string {
  const lines = [
    `openapi fuzz on ${database}: seed ${report.seed} (FUZZ_SEED=${report.seed} to replay), ${report.requests} requests in ${report.seconds} s, statuses ${JSON.stringify(report.statuses)}, ${report.findings.length} findings`,
  ];
  for (const f of report.findings)
    lines.push(`- ${f.operation}: ${f.problem} (${f.count}x)${f.serverError ? `; server: ${f.serverError}` : ''}\n    e.g. ${JSON.stringify(f.example)}`);
  return lines.join('\n');
}

describe.each(RUNS)('OpenAPI-driven fuzzing on %s', (database, seconds) => {
  let t: TestApp;
  const sessions = {} as Record<'patient' | 'doctor' | 'admin', Session>;

  // The API's error log: what a 500 was (the answer itself says nothing, by design).
  let serverError: string | undefined;
  const errorLog = createLogger('error', {
    write: (line: string) => void (serverError = (JSON.parse(line) as { err?: { message?: string } }).err?.message ?? line),
  });

  beforeAll(async () => {
    t = await startTestApp(
      database,
      { messageRateLimit: 1_000_000, loginRateLimit: 1_000_000, loginAddressRateLimit: 1_000_000, maxUploadBytes: MAX_UPLOAD_BYTES },
      errorLog,
    );
    sessions.patient = await login(t.url, 'alice');
    sessions.doctor = await login(t.url, 'drgrey');
    sessions.admin = await login(t.url, 'admin');
  }, 120_000);
  afterAll(async () => t?.close());

  /** Real records to aim at: an active call both ends joined, a booked one, conversations, a message and an attachment. */
  async function fixtures(): Promise<Pools> {
    const alice = client(t.url, sessions.patient.accessToken);
    const grey = client(t.url, sessions.doctor.accessToken);
    const call = (await alice.post<Call>('/api/calls', { type: 'video', inviteeIds: [sessions.doctor.user.id] })).body;
    expect((await grey.post(`/api/calls/${call.id}/accept`)).status).toBe(200);
    const booked = await grey.post<Call>('/api/calls/scheduled', {
      type: 'voice',
      inviteeIds: [sessions.patient.user.id],
      scheduledFor: new Date(Date.now() + 3600_000).toISOString(),
      title: 'Follow-up',
    });
    expect(booked.status).toBe(201);
    const conversations = (await alice.get<{ items: Conversation[] }>('/api/conversations')).body.items;
    const message = await alice.post<{ id: number }>(`/api/conversations/${conversations[0]!.id}/messages`, { clientId: crypto.randomUUID(), body: 'fixture' });
    const form = new FormData();
    form.append('file', new Blob([PNG]), 'scan.png');
    const upload = await fetch(`${t.url}/api/conversations/${conversations[0]!.id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sessions.patient.accessToken}` },
      body: form,
    });
    expect(upload.status).toBe(201);
    return {
      ids: {
        calls: [call.id, booked.body.id],
        conversations: conversations.map((c) => c.id),
        attachments: [((await upload.json()) as { id: string }).id],
        users: [sessions.patient.user.id, sessions.doctor.user.id, sessions.admin.user.id],
      },
      cursors: [],
      integers: [message.body.id],
    };
  }

  function authorization(credential: Credential, body: Buffer | undefined): string | undefined {
    switch (credential) {
      case 'none':
        return undefined;
      case 'forged':
        return `Bearer ${jwt.sign({ sub: sessions.admin.user.id, role: 'admin' }, 'not-the-access-token-secret-0123456789abcdef', { algorithm: 'HS256', expiresIn: 600 })}`;
      case 'media-server':
        return `Bearer ${signBodyToken({ secret: TEST_SECRETS.mediaWebhookSecret, issuer: MEDIA_EVENTS_ISSUER, audience: MEDIA_EVENTS_AUDIENCE, body: body ?? '', expiresInSeconds: 60 })}`;
      default:
        return `Bearer ${sessions[credential].accessToken}`;
    }
  }

  it(
    'keeps the contract for generated valid and invalid requests, and still serves afterwards',
    async () => {
      const document = dereference((await (await fetch(`${t.url}/api/openapi.json`)).json()) as Parameters<typeof fuzzOpenApi>[0]['document']);
      const report = await fuzzOpenApi({
        baseUrl: t.url,
        document,
        seed: SEED,
        budgetMs: seconds * 1000,
        authorization,
        pools: await fixtures(),
        maxUploadBytes: MAX_UPLOAD_BYTES,
        allowed5xx: ALLOWED_5XX,
        takeServerError: () => {
          const error = serverError;
          serverError = undefined;
          return error;
        },
      });
      const text = summary(database, report);
      console.log(text);
      expect(report.findings, text).toEqual([]);
      // Requests got past validation and access checks, and were refused too.
      expect(
        Object.keys(report.statuses).some((s) => s.startsWith('2')),
        text,
      ).toBe(true);
      expect(
        Object.keys(report.statuses).some((s) => s.startsWith('4')),
        text,
      ).toBe(true);

      // The server still serves: the database answers and a fresh login works. The admin's: the fuzzed
      // admin routes may have disabled any other account, but never the admin's own.
      expect((await fetch(`${t.url}/ready`)).status).toBe(200);
      expect((await login(t.url, 'admin')).accessToken).toEqual(expect.any(String));
    },
    (seconds + 120) * 1000,
  );
});

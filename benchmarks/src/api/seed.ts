// Realistic volumes straight into the API's schema: users, direct patient–doctor conversations,
// messages (bodies encrypted by the API's own Encryptor, so list queries decrypt real rows) and
// calls with participants. Rows go in as batched `insert … select * from unnest($1, $2, …)`, one
// statement per few thousand rows, oldest first so ids grow with time as they do in production.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Encryptor } from '../../../api/dist/crypto/encryption.js';
import { hashPassword } from '../../../api/dist/crypto/password.js';
import { log } from '../common/results.js';
import { round } from '../common/stats.js';

export interface Volume {
  users: number;
  doctors: number;
  conversations: number;
  messages: number;
  calls: number;
}

export interface SeededUser {
  id: string;
  email: string;
  role: 'patient' | 'doctor';
}

export interface Seeded {
  users: SeededUser[];
  /** Conversation ids with their two members, patient first. */
  conversations: { id: string; patient: number; doctor: number }[];
  password: string;
  rows: Record<string, number>;
  seconds: Record<string, number>;
}

const BATCH = 5000;
const DAY_MS = 86_400_000;
const SPAN_MS = 365 * DAY_MS;
const WORDS = (
  'the dose blood pressure this morning feels better worse since yesterday please send your latest lab results ' +
  'appointment on friday tablets twice a day after meals headache fever cough sleep well any side effects rash swelling ' +
  'we will review scan next week call me if it gets worse thank you doctor see you then'
).split(' ');

function body(): string {
  const n = 3 + Math.floor(Math.random() ** 2 * 45);
  const words = Array.from({ length: n }, () => WORDS[Math.floor(Math.random() * WORDS.length)]);
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Inserts `count` rows made by `row(i)` in batches; columns are `name::type` pairs for unnest. */
async function insertBatched(
  client: pg.Client,
  table: string,
  columns: [string, string][],
  count: number,
  row: (i: number) => unknown[],
  label: string,
): Promise<number> {
  const started = performance.now();
  const names = columns.map(([name]) => name).join(', ');
  const params = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  const sql = `insert into ${table} (${names}) select * from unnest(${params})`;
  let nextReport = 0.1;
  for (let from = 0; from < count; from += BATCH) {
    const arrays: unknown[][] = columns.map(() => []);
    for (let i = from; i < Math.min(count, from + BATCH); i++) row(i).forEach((value, c) => arrays[c]?.push(value));
    await client.query(sql, arrays);
    const done = Math.min(count, from + BATCH) / count;
    if (count >= 10 * BATCH && done >= nextReport) {
      log(`  ${label}: ${Math.round(done * 100)} % (${Math.round((done * count) / ((performance.now() - started) / 1000))} rows/s)`);
      nextReport += 0.1;
    }
  }
  return (performance.now() - started) / 1000;
}

export async function seed(databaseUrl: string, encryptionKey: string, volume: Volume): Promise<Seeded> {
  const encryptor = new Encryptor(encryptionKey);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // Each batch is its own transaction; losing the last ones in a crash costs nothing here.
  await client.query('set synchronous_commit = off');
  const seconds: Record<string, number> = {};
  const start = Date.now() - SPAN_MS;
  const patients = volume.users - volume.doctors;
  try {
    const password = `bench-${randomUUID()}`;
    const passwordHash = await hashPassword(password);
    const users: SeededUser[] = Array.from({ length: volume.users }, (_, i) => ({
      id: randomUUID(),
      email: `bench-${i}@bench.telemed.local`,
      role: i < volume.doctors ? 'doctor' : 'patient',
    }));
    log(`seeding ${volume.users} users, ${volume.conversations} conversations, ${volume.messages} messages, ${volume.calls} calls`);
    seconds.users = await insertBatched(
      client,
      'users',
      [
        ['id', 'uuid'],
        ['email', 'text'],
        ['password_hash', 'text'],
        ['role', 'text'],
        ['display_name', 'text'],
        ['created_at', 'timestamptz'],
      ],
      users.length,
      (i) => [users[i]?.id, users[i]?.email, passwordHash, users[i]?.role, `${users[i]?.role === 'doctor' ? 'Dr. ' : ''}Bench User ${i}`, new Date(start)],
      'users',
    );

    // Conversation k: patient k mod P, with a doctor that differs for each of that patient's conversations.
    const conversations = Array.from({ length: volume.conversations }, (_, k) => ({
      id: randomUUID(),
      patient: volume.doctors + (k % patients),
      doctor: (k * 7 + Math.floor(k / patients)) % volume.doctors,
    }));
    const id = (user: number): string => users[user]?.id ?? '';
    seconds.conversations = await insertBatched(
      client,
      'conversations',
      [
        ['id', 'uuid'],
        ['kind', 'text'],
        ['created_by', 'uuid'],
        ['created_at', 'timestamptz'],
      ],
      conversations.length,
      (k) => [conversations[k]?.id, 'direct', id(conversations[k]?.patient ?? 0), new Date(start)],
      'conversations',
    );
    seconds.members = await insertBatched(
      client,
      'conversation_members',
      [
        ['conversation_id', 'uuid'],
        ['user_id', 'uuid'],
        ['joined_at', 'timestamptz'],
      ],
      conversations.length * 2,
      (i) => {
        const c = conversations[Math.floor(i / 2)];
        return [c?.id, id((i % 2 === 0 ? c?.patient : c?.doctor) ?? 0), new Date(start)];
      },
      'members',
    );
    await client.query(`insert into care_relationships (doctor_id, patient_id)
      select distinct m2.user_id, m1.user_id from conversation_members m1 join conversation_members m2 using (conversation_id)
      join users u1 on u1.id = m1.user_id and u1.role = 'patient' join users u2 on u2.id = m2.user_id and u2.role = 'doctor'
      on conflict do nothing`);

    // Messages: a skewed spread (a few long-running conversations, many short ones), in time order.
    const messageStarted = performance.now();
    seconds.messages = await insertBatched(
      client,
      'messages',
      [
        ['conversation_id', 'uuid'],
        ['sender_id', 'uuid'],
        ['client_id', 'uuid'],
        ['body_ciphertext', 'text'],
        ['key_id', 'text'],
        ['created_at', 'timestamptz'],
      ],
      volume.messages,
      (i) => {
        const c = conversations[Math.floor(volume.conversations * Math.random() ** 1.5)] ?? conversations[0];
        const conversationId = c?.id ?? '';
        // The same additional data as api/src/message/message.service.ts: `message:<conversation id>`.
        const encrypted = encryptor.encrypt(body(), `message:${conversationId}`);
        return [
          conversationId,
          id((Math.random() < 0.5 ? c?.patient : c?.doctor) ?? 0),
          randomUUID(),
          encrypted.ciphertext,
          encrypted.keyId,
          new Date(start + (i / volume.messages) * SPAN_MS),
        ];
      },
      'messages',
    );
    log(`  messages done in ${round((performance.now() - messageStarted) / 1000, 1)} s`);
    await client.query(
      `update conversations c set last_message_at = s.at from (select conversation_id, max(created_at) as at from messages group by 1) s where s.conversation_id = c.id`,
    );
    await client.query(
      `update conversation_members m set last_read_message_id = s.id, last_delivered_message_id = s.id from (select conversation_id, max(id) as id from messages group by 1) s where s.conversation_id = m.conversation_id`,
    );

    // Calls: mostly ended video calls between a conversation's two members, some missed, declined
    // or cancelled; one in ten a group call with a second doctor.
    const calls = Array.from({ length: volume.calls }, (_, i) => {
      const c = conversations[Math.floor(Math.random() * conversations.length)] ?? conversations[0];
      const r = Math.random();
      const status = r < 0.7 ? 'ended' : r < 0.85 ? 'missed' : r < 0.92 ? 'declined' : 'cancelled';
      const createdAt = start + (i / volume.calls) * SPAN_MS;
      const startedAt = status === 'ended' ? createdAt + 5000 + Math.random() * 15_000 : null;
      const duration = startedAt === null ? null : Math.round(60 + Math.random() * 1800);
      const initiatorIsPatient = Math.random() < 0.4;
      return {
        id: randomUUID(),
        c,
        status,
        createdAt,
        startedAt,
        duration,
        initiator: (initiatorIsPatient ? c?.patient : c?.doctor) ?? 0,
        invitee: (initiatorIsPatient ? c?.doctor : c?.patient) ?? 0,
        extra: Math.random() < 0.1 ? ((c?.doctor ?? 0) + 1) % volume.doctors : null,
        type: Math.random() < 0.8 ? 'video' : 'voice',
      };
    });
    seconds.calls = await insertBatched(
      client,
      'calls',
      [
        ['id', 'uuid'],
        ['type', 'text'],
        ['status', 'text'],
        ['initiator_id', 'uuid'],
        ['conversation_id', 'uuid'],
        ['created_at', 'timestamptz'],
        ['ring_expires_at', 'timestamptz'],
        ['started_at', 'timestamptz'],
        ['ended_at', 'timestamptz'],
        ['duration_seconds', 'int4'],
        ['end_reason', 'text'],
      ],
      calls.length,
      (i) => {
        const call = calls[i];
        if (!call) return [];
        const ended =
          call.startedAt === null
            ? call.status === 'ended'
              ? null
              : new Date(call.createdAt + 60_000)
            : new Date(call.startedAt + (call.duration ?? 0) * 1000);
        return [
          call.id,
          call.type,
          call.status,
          id(call.initiator),
          call.c?.id,
          new Date(call.createdAt),
          new Date(call.createdAt + 60_000),
          call.startedAt === null ? null : new Date(call.startedAt),
          ended,
          call.duration,
          call.status === 'ended' ? 'hangup' : call.status,
        ];
      },
      'calls',
    );
    const participants = calls.flatMap((call) => {
      const inviteeStatus = call.status === 'ended' ? 'left' : call.status === 'declined' ? 'declined' : 'missed';
      const at = new Date(call.createdAt);
      const rows = [
        [call.id, id(call.initiator), 'initiator', call.status === 'ended' ? 'left' : 'accepted', at],
        [call.id, id(call.invitee), 'invitee', inviteeStatus, at],
      ];
      if (call.extra !== null && call.extra !== call.initiator && call.extra !== call.invitee)
        rows.push([call.id, id(call.extra), 'invitee', inviteeStatus, at]);
      return rows;
    });
    seconds.participants = await insertBatched(
      client,
      'call_participants',
      [
        ['call_id', 'uuid'],
        ['user_id', 'uuid'],
        ['role', 'text'],
        ['status', 'text'],
        ['invited_at', 'timestamptz'],
      ],
      participants.length,
      (i) => participants[i] ?? [],
      'call participants',
    );

    const vacuumStarted = performance.now();
    // Production tables are autovacuumed and analyzed; a fresh bulk load is neither until we ask.
    await client.query('vacuum analyze');
    seconds.vacuumAnalyze = (performance.now() - vacuumStarted) / 1000;
    const rows: Record<string, number> = {};
    for (const table of ['users', 'conversations', 'conversation_members', 'messages', 'calls', 'call_participants']) {
      rows[table] = (await client.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]?.n ?? 0;
    }
    for (const key of Object.keys(seconds)) seconds[key] = round(seconds[key] ?? 0, 1);
    log(
      `  seeded: ${Object.entries(rows)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}; vacuum analyze ${seconds.vacuumAnalyze} s`,
    );
    return { users, conversations, password, rows, seconds };
  } finally {
    await client.end();
  }
}

// Frame-level WebSocket fuzzing of the API's /events and the media server's /rtc on the built
// platform: each protocol error closes that one connection with the code RFC 6455 gives it, and
// both processes stay up (same pids) and keep serving: health, a fresh /events socket and a real
// signaling join. The random phase is seeded (FUZZ_SEED to replay) and bounded in count and time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MAX_SIGNALING_MESSAGE_BYTES } from '@telemed/sdk/protocol';
import { roomToken, type TestPlatform } from '../calls/harness.js';
import { startDemoCall } from '../calls/demo-call.js';
import { startTestPlatform } from '../platform.js';
import { endpoint, expectStillServing, pidsOf, type Pids } from './serving.js';
import { closePayload, encodeFrame, Opcode, openRaw, prng, type RawConnection } from './raw-ws.js';

const EVENTS_MAX_PAYLOAD = 4096;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RANDOM_CONNECTIONS = Number(process.env.FUZZ_CONNECTIONS ?? 150);
const RANDOM_BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 12_000);

let platform: TestPlatform;
let pids: Pids;
let accessToken: string;
let identities = 0;

interface Target {
  name: '/events' | '/rtc';
  maxPayload: number;
  open: () => Promise<RawConnection>;
}

const TARGETS: Target[] = [
  { name: '/events', maxPayload: EVENTS_MAX_PAYLOAD, open: () => openRaw({ ...endpoint(platform.apiUrl), path: `/events?access_token=${accessToken}` }) },
  {
    name: '/rtc',
    maxPayload: MAX_SIGNALING_MESSAGE_BYTES,
    open: () => openRaw({ ...endpoint(platform.mediaHttpUrl), path: `/rtc?token=${roomToken(platform, 'fuzz-room', `fuzz-${++identities}`)}` }),
  },
];

const text = (payload: string | Buffer, more: Partial<Parameters<typeof encodeFrame>[0]> = {}): Buffer =>
  encodeFrame({ opcode: Opcode.text, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), ...more });

/** Protocol errors and the close code each must get (RFC 6455 section 7.4.1). */
const CASES: { name: string; bytes: (t: Target) => Buffer; code: number }[] = [
  { name: 'a text frame that is not UTF-8', bytes: () => text(Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), code: 1007 },
  {
    name: 'a text message whose fragments break UTF-8',
    bytes: () =>
      Buffer.concat([text(Buffer.from([0x61, 0xe2, 0x82]), { fin: false }), encodeFrame({ opcode: Opcode.continuation, payload: Buffer.from([0x28]) })]),
    code: 1007,
  },
  { name: 'a frame over the size limit (header only)', bytes: (t) => text(Buffer.alloc(0), { declaredLength: t.maxPayload + 1 }), code: 1009 },
  { name: 'a frame over the size limit (sent whole)', bytes: (t) => text(Buffer.alloc(t.maxPayload + 1, 0x61)), code: 1009 },
  {
    name: 'a fragmented message over the size limit',
    bytes: (t) =>
      Buffer.concat([
        text(Buffer.alloc(t.maxPayload - 10, 0x61), { fin: false }),
        encodeFrame({ opcode: Opcode.continuation, payload: Buffer.alloc(20, 0x61) }),
      ]),
    code: 1009,
  },
  { name: 'a 64-bit length beyond 2^53', bytes: () => text(Buffer.alloc(0), { declaredLength: 2n ** 63n }), code: 1009 },
  { name: 'an unmasked client frame', bytes: () => text('{}', { mask: false }), code: 1002 },
  { name: 'RSV1 without a negotiated extension', bytes: () => text('{}', { rsv: 4 }), code: 1002 },
  { name: 'RSV2 set', bytes: () => text('{}', { rsv: 2 }), code: 1002 },
  { name: 'RSV3 set', bytes: () => text('{}', { rsv: 1 }), code: 1002 },
  { name: 'reserved data opcode 0x3', bytes: () => encodeFrame({ opcode: 3, payload: Buffer.from('x') }), code: 1002 },
  { name: 'reserved control opcode 0xB', bytes: () => encodeFrame({ opcode: 0xb }), code: 1002 },
  { name: 'a fragmented ping', bytes: () => encodeFrame({ opcode: Opcode.ping, fin: false, payload: Buffer.from('p') }), code: 1002 },
  { name: 'a control frame over 125 bytes', bytes: () => encodeFrame({ opcode: Opcode.ping, payload: Buffer.alloc(126) }), code: 1002 },
  { name: 'a continuation without a start', bytes: () => encodeFrame({ opcode: Opcode.continuation, payload: Buffer.from('x') }), code: 1002 },
  { name: 'a new message inside a fragmented one', bytes: () => Buffer.concat([text('{', { fin: false }), text('}')]), code: 1002 },
  { name: 'a close with the reserved code 1005', bytes: () => encodeFrame({ opcode: Opcode.close, payload: closePayload(1005) }), code: 1002 },
  { name: 'a close with code 999', bytes: () => encodeFrame({ opcode: Opcode.close, payload: closePayload(999) }), code: 1002 },
  { name: 'a close with code 5000', bytes: () => encodeFrame({ opcode: Opcode.close, payload: closePayload(5000) }), code: 1002 },
  { name: 'a close with a one-byte payload', bytes: () => encodeFrame({ opcode: Opcode.close, payload: Buffer.from([3]) }), code: 1002 },
  {
    name: 'a close whose reason is not UTF-8',
    bytes: () => encodeFrame({ opcode: Opcode.close, payload: closePayload(1000, Buffer.from([0xff, 0xfe])) }),
    code: 1007,
  },
  { name: 'HTTP text after the handshake', bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), code: 1002 },
  { name: 'a normal close', bytes: () => encodeFrame({ opcode: Opcode.close, payload: closePayload(1000, 'bye') }), code: 1000 },
];

const assertServing = (): Promise<void> => expectStillServing(platform, pids);

beforeAll(async () => {
  platform = (await startTestPlatform({ apiEnv: { SEED_DEMO: 'true' }, numWorkers: 1 })) as TestPlatform;
  pids = pidsOf(platform);
  const login = await fetch(`${platform.apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@patients.demo', password: 'telemed-demo' }),
  });
  accessToken = ((await login.json()) as { accessToken: string }).accessToken;
});

afterAll(async () => {
  await platform?.stop();
});

describe.each(TARGETS.map((t) => [t.name, t] as const))('%s at the frame level', (_name, target) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_case, { bytes, code }) => {
    const connection = await target.open();
    expect(connection.status).toBe(101);
    connection.send(bytes(target));
    const ending = await connection.ending(20_000);
    expect(ending.closeCode).toBe(code);
    expect(ending.ended).toBe(true);
  });

  it('ends a connection whose frame is cut short when the client half-closes', async () => {
    const connection = await target.open();
    connection.send(text(Buffer.alloc(10, 0x61), { declaredLength: 100 }).subarray(0, 12));
    connection.socket.end();
    expect((await connection.ending(20_000)).ended).toBe(true);
  });

  it('survives connections reset mid-frame and mid-handshake', async () => {
    for (let i = 0; i < 5; i++) {
      const connection = await target.open();
      connection.send(text(Buffer.alloc(200, 0x61)).subarray(0, 50));
      connection.socket.resetAndDestroy();
    }
    await assertServing();
  });

  it(
    `answers random frames from seed ${SEED} without ending the process`,
    async () => {
      const random = prng(SEED ^ (target.name === '/rtc' ? 0x5eed : 0));
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
      /** `closeCodes` collects the codes of the close frames it builds: the server may echo one back (RFC 6455 5.5.1). */
      const randomFrame = (closeCodes: Set<number>): Buffer => {
        const payload =
          random() < 0.3
            ? Buffer.from(JSON.stringify({ type: 'request', id: Math.floor(random() * 100), method: pick(['join', 'getStats', 'x']), data: {} }))
            : bytes(Math.floor(random() ** 3 * 300));
        const declared = random() < 0.1 ? Math.floor(random() * 70_000) : undefined;
        // In this order: a seed replays the same frames as before the close codes were collected.
        const fin = random() < 0.8;
        const rsv = random() < 0.85 ? 0 : Math.floor(random() * 8);
        const opcode = random() < 0.7 ? pick([0, 1, 2, 8, 9, 10]) : Math.floor(random() * 16);
        if (opcode === 8 && payload.length >= 2) closeCodes.add(payload.readUInt16BE(0));
        return encodeFrame({
          fin,
          rsv,
          opcode,
          payload,
          mask: random() < 0.9,
          ...(declared === undefined ? {} : { declaredLength: declared }),
        });
      };
      const deadline = Date.now() + RANDOM_BUDGET_MS;
      let connections = 0;
      const codes = new Map<string, number>();
      try {
        while (connections < RANDOM_CONNECTIONS && Date.now() < deadline) {
          const batch = Array.from({ length: 4 }, () => {
            const closeCodes = new Set<number>();
            const parts =
              random() < 0.15 ? [bytes(1 + Math.floor(random() * 64))] : Array.from({ length: 1 + Math.floor(random() * 4) }, () => randomFrame(closeCodes));
            const how = pick(['hang-up', 'hang-up', 'reset'] as const);
            return { parts, how, closeCodes };
          });
          await Promise.all(
            batch.map(async ({ parts, how, closeCodes }) => {
              const connection = await target.open();
              expect(connection.status).toBe(101);
              for (const part of parts) connection.send(part);
              if (how === 'reset') {
                connection.socket.resetAndDestroy();
                codes.set('reset', (codes.get('reset') ?? 0) + 1);
                return;
              }
              // Whatever came before, a close and a FIN must end the connection from the server's side.
              const ending = await connection.hangUp(20_000);
              expect(ending.ended).toBe(true);
              const key = String(ending.closeCode ?? 'no close frame');
              codes.set(key, (codes.get(key) ?? 0) + 1);
              // The server's own codes, or one the client sent that the server echoes (seed 1840374860: 3252).
              if (ending.closeCode !== undefined) expect([1000, 1002, 1005, 1007, 1008, 1009, ...closeCodes]).toContain(ending.closeCode);
            }),
          );
          connections += batch.length;
        }
        await assertServing();
      } catch (error) {
        console.error(`${target.name} random frame fuzzing failed: replay with FUZZ_SEED=${SEED}`);
        throw error;
      }
      console.info(`${target.name}: ${connections} random connections from seed ${SEED}, endings ${JSON.stringify(Object.fromEntries(codes))}`);
      expect(connections).toBeGreaterThan(0);
    },
    RANDOM_BUDGET_MS + 60_000,
  );
});

describe('after the fuzzing', () => {
  it('both processes are the same ones, healthy, and serve /events and a real signaling join', async () => {
    await assertServing();
    const events = new WebSocket(`${platform.apiUrl.replace('http', 'ws')}/events?access_token=${accessToken}`);
    const ready = await new Promise<{ kind: string }>((resolve, reject) => {
      events.once('message', (raw) => resolve(JSON.parse(raw.toString()) as { kind: string }));
      events.once('error', reject);
    });
    expect(ready.kind).toBe('ready');
    events.close();

    const call = await startDemoCall(platform.apiUrl);
    const rtc = await openRaw({ ...endpoint(call.aliceAccess.url), path: `/rtc?token=${call.aliceAccess.token}` });
    expect(rtc.status).toBe(101);
    const welcome = JSON.parse((await rtc.nextFrame((f) => f.opcode === Opcode.text)).payload.toString()) as {
      method: string;
      data: { routerRtpCapabilities: unknown };
    };
    expect(welcome.method).toBe('welcome');
    rtc.send(text(JSON.stringify({ type: 'request', id: 1, method: 'join', data: { rtpCapabilities: welcome.data.routerRtpCapabilities } })));
    const joined = await rtc.nextFrame((f) => f.opcode === Opcode.text && (JSON.parse(f.payload.toString()) as { id?: number }).id === 1);
    expect(JSON.parse(joined.payload.toString())).toMatchObject({ type: 'response', id: 1, ok: true });
    expect((await rtc.hangUp(20_000)).closeCode).toBe(1000);
    await assertServing();
  });
});

// A WebSocket client at the byte level: a real HTTP upgrade over a net.Socket, then frames built
// by hand (any flags, opcode, mask, declared length), and a reader for what the server answers.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { waitFor } from '@telemed/test-kit';

export interface FrameSpec {
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (4 = RSV1). */
  rsv?: number;
  opcode: number;
  payload?: Buffer;
  /** A mask key (4 bytes), true for a random one, false for none (clients must mask). */
  mask?: Buffer | boolean;
  /** The length written in the header when it should lie about the payload. */
  declaredLength?: number | bigint;
}

export const Opcode = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Encodes one frame exactly as described, valid or not. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const maskKey = spec.mask === false ? undefined : Buffer.isBuffer(spec.mask) ? spec.mask : randomBytes(4);
  const length = BigInt(spec.declaredLength ?? payload.length);
  const first = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  const maskBit = maskKey ? 0x80 : 0;
  let header: Buffer;
  if (length < 126n) header = Buffer.from([first, maskBit | Number(length)]);
  else if (length < 65536n) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!maskKey) return Buffer.concat([header, payload]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= maskKey[i % 4]!;
  return Buffer.concat([header, maskKey, masked]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, Buffer.isBuffer(reason) ? reason : Buffer.from(reason)]);
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** How a connection ended, as the client saw it. */
export interface Ending {
  /** The close frame's code, if the server sent one (1005: a close frame without a code). */
  closeCode?: number;
  closeReason?: string;
  /** The TCP connection ended (FIN or reset). */
  ended: boolean;
  frames: ServerFrame[];
}

export interface RawConnection {
  socket: net.Socket;
  /** The status line's code: 101 when upgraded. */
  status: number;
  headers: Record<string, string>;
  /** The body of a refused upgrade (until the server closed the connection). */
  body: () => Promise<string>;
  /** Text frames received so far (parsed as they arrive). */
  frames: ServerFrame[];
  /** Waits for the next frame that matches. */
  nextFrame: (match: (frame: ServerFrame) => boolean, timeoutMs?: number) => Promise<ServerFrame>;
  send: (bytes: Buffer) => void;
  /** Resolves when the server closed the connection (close frame and/or TCP end), or rejects after timeoutMs. */
  ending: (timeoutMs?: number) => Promise<Ending>;
  /** The client closes (a close frame 1000, then FIN) and waits for the server to end the connection. */
  hangUp: (timeoutMs?: number) => Promise<Ending>;
}

export interface UpgradeRequest {
  host: string;
  port: number;
  /** Path and query, e.g. `/events?access_token=…`. */
  path: string;
  /** Extra or replacing headers; a null value removes a default header. */
  headers?: Record<string, string | null>;
  method?: string;
}

/** Sends an upgrade request over a new TCP connection and reads the answer's head. */
export function openRaw(request: UpgradeRequest): Promise<RawConnection> {
  const defaults: Record<string, string | null> = {
    host: `${request.host}:${request.port}`,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': randomBytes(16).toString('base64'),
  };
  const headers = { ...defaults, ...request.headers };
  const head = [
    `${request.method ?? 'GET'} ${request.path} HTTP/1.1`,
    ...Object.entries(headers)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: request.host, port: request.port });
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let upgraded: ((data: Buffer) => void) | undefined;
    let tcpEnded = false;
    const endWaiters: (() => void)[] = [];
    const onEnd = (): void => {
      tcpEnded = true;
      for (const waiter of endWaiters.splice(0)) waiter();
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', () => undefined); // resets are an ending like any other here
    socket.once('error', (error) => {
      if (!upgraded && buffer.indexOf('\r\n\r\n') < 0) reject(error);
    });
    socket.on('data', (data: Buffer) => {
      if (upgraded) return upgraded(data);
      buffer = Buffer.concat([buffer, data]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]?.split(' ')[1]);
      const responseHeaders = Object.fromEntries(
        lines.slice(1).map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      let rest = buffer.subarray(end + 4);
      const frames: ServerFrame[] = [];
      const frameWaiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
      upgraded = (data: Buffer): void => {
        rest = Buffer.concat([rest, data]);
        if (status !== 101) return;
        for (;;) {
          const frame = decodeFrame(rest);
          if (!frame) return;
          rest = rest.subarray(frame.size);
          frames.push(frame.frame);
          for (const waiter of [...frameWaiters]) {
            if (waiter.match(frame.frame)) {
              frameWaiters.splice(frameWaiters.indexOf(waiter), 1);
              waiter.resolve(frame.frame);
            }
          }
        }
      };
      const whenEnded = (timeoutMs: number): Promise<void> =>
        new Promise((done, fail) => {
          if (tcpEnded) return done();
          const timer = setTimeout(() => fail(new Error(`the server did not end the connection within ${timeoutMs} ms`)), timeoutMs);
          endWaiters.push(() => {
            clearTimeout(timer);
            done();
          });
        });
      upgraded(Buffer.alloc(0));
      resolve({
        socket,
        status,
        headers: responseHeaders,
        frames,
        body: async () => {
          await whenEnded(10_000);
          return rest.toString('utf8');
        },
        nextFrame: (match, timeoutMs = 10_000) => {
          const found = frames.find(match);
          if (found) return Promise.resolve(found);
          return new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no matching frame within ${timeoutMs} ms`)), timeoutMs);
            frameWaiters.push({ match, resolve: (f) => (clearTimeout(timer), done(f)) });
          });
        },
        send: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        ending: async (timeoutMs = 10_000) => {
          const deadline = Date.now() + timeoutMs;
          // A close frame, then the TCP end; or the TCP end alone.
          await waitFor('the server closing or ending the connection', () => tcpEnded || frames.some((f) => f.opcode === Opcode.close), {
            timeoutMs,
            intervalMs: 10,
          });
          const close = frames.find((f) => f.opcode === Opcode.close);
          // Answer the server's close as a client must, then wait for the server's TCP end.
          if (close && !tcpEnded) {
            socket.end(encodeFrame({ opcode: Opcode.close, payload: close.payload.subarray(0, 2) }));
            await whenEnded(Math.max(1000, deadline - Date.now()));
          }
          return result();
        },
        hangUp: async (timeoutMs = 10_000) => {
          if (!socket.destroyed && !socket.writableEnded) socket.end(encodeFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
          await whenEnded(timeoutMs);
          return result();
        },
      });
      const result = (): Ending => {
        const close = frames.find((f) => f.opcode === Opcode.close);
        return {
          ended: tcpEnded,
          frames,
          ...(close
            ? { closeCode: close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005, closeReason: close.payload.subarray(2).toString('utf8') }
            : {}),
        };
      };
    });
    socket.on('connect', () => socket.write(`${head}\r\n\r\n`));
  });
}

function decodeFrame(data: Buffer): { frame: ServerFrame; size: number } | undefined {
  if (data.length < 2) return undefined;
  const fin = (data[0]! & 0x80) !== 0;
  const opcode = data[0]! & 0x0f;
  let length = data[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + length) return undefined;
  return { frame: { fin, opcode, payload: Buffer.from(data.subarray(offset, offset + length)) }, size: offset + length };
}

/** Sends raw bytes (not necessarily HTTP) and collects everything until the server ends the connection. */
export function rawExchange(target: { host: string; port: number }, bytes: Buffer | string, timeoutMs = 10_000): Promise<{ response: string; ended: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString('latin1'), ended: false });
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response: Buffer.concat(chunks).toString('latin1'), ended: true });
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

/** mulberry32: a small seeded PRNG, so a failing fuzz run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

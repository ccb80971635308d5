// SIGTERM to the production launcher: the API turns not ready and finishes its in-flight requests
// (within API_DRAIN_TIMEOUT); the media server opens no new room but lets running calls go on until
// they end (or MEDIA_DRAIN_TIMEOUT). Real processes, a real slow HTTP request, real signaling sockets.
import fs from 'node:fs';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { addDoctors, doctorsCall, START_TIMEOUT_MS, startProduction, type ProductionStack, type RoomAccessJson } from './production.js';
import { SignalingRefusedError, TestSignalingClient, waitFor, type SocketClose } from '@telemed/test-kit';

let stack: ProductionStack | undefined;
const clients: TestSignalingClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await stack?.stop(10_000);
  if (stack) fs.rmSync(stack.dir, { recursive: true, force: true });
  stack = undefined;
});

const status = (url: string): Promise<number | 'refused'> =>
  fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 'refused' as const,
  );

/** A POST whose body arrives only when `finish()` is called: a request in flight for as long as we like. */
function slowRequest(apiUrl: string): { finish(): void; sent: Promise<void>; response: Promise<number | string> } {
  const body = JSON.stringify({ email: 'house@clinic.test', password: 'not the password' });
  const req = http.request(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const response = new Promise<number | string>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  const sent = new Promise<void>((resolve) => req.write(body.slice(0, 10), () => resolve()));
  return { finish: () => req.end(body.slice(10)), sent, response };
}

/** Joins a room over signaling (straight to the media server); resolves once welcomed, or with the close code. */
async function joinRoom(mediaUrl: string, access: RoomAccessJson): Promise<{ client?: TestSignalingClient; refused?: SocketClose }> {
  try {
    const client = await TestSignalingClient.connect({ url: `${mediaUrl.replace(/^http/, 'ws')}/rtc`, token: access.token });
    clients.push(client);
    return { client };
  } catch (error) {
    if (error instanceof SignalingRefusedError) return { refused: error.close };
    throw error;
  }
}

describe('graceful stop', () => {
  it(
    'drains: not ready, in-flight requests answered, running calls go on until they end, no new rooms',
    async () => {
      stack = await startProduction(
        { API_DRAIN_TIMEOUT: '60', MEDIA_DRAIN_TIMEOUT: '120', MEDIA_RESUME_GRACE_MS: '200', MEDIA_EMPTY_ROOM_GRACE_MS: '300' },
        { beforeStart: addDoctors },
      );
      const s = stack;
      const running = await doctorsCall(s.apiUrl);
      const other = await doctorsCall(s.apiUrl);
      const house = await joinRoom(s.mediaUrl, running.house);
      expect(house.client).toBeDefined();
      expect(await status(`${s.apiUrl}/ready`)).toBe(200);

      const slow = slowRequest(s.apiUrl);
      // In flight once the server has read its headers: they were written, and a request after them is answered.
      await slow.sent;
      expect(await status(`${s.apiUrl}/ready`)).toBe(200);
      s.process.kill('SIGTERM');

      expect(await waitFor('/ready 503', async () => ((await status(`${s.apiUrl}/ready`)) === 503 ? 503 : undefined))).toBe(503);
      const mediaHealth = await waitFor('media draining', async () => {
        const body = (await (await fetch(`${s.mediaUrl}/health`)).json()) as { draining?: boolean; rooms: number };
        return body.draining ? body : undefined;
      });
      expect(mediaHealth.rooms).toBe(1);
      // A new room is refused; the running call still takes its other participant.
      const refused = await joinRoom(s.mediaUrl, other.house);
      expect(refused.refused).toEqual({ code: 4403, reason: 'DRAINING' });
      const wilson = await joinRoom(s.mediaUrl, running.wilson);
      expect(wilson.client).toBeDefined();

      // The in-flight request gets its answer; then the API is gone.
      slow.finish();
      expect(await slow.response).toBe(401);
      await waitFor('the API to stop', async () => ((await status(`${s.apiUrl}/health`)) === 'refused' ? true : undefined));
      // The media server keeps the call while anyone is in it.
      expect(s.process.exitCode).toBe(null);
      expect(house.client?.socket.readyState).toBe(house.client?.socket.OPEN);
      expect(await status(`${s.mediaUrl}/health`)).toBe(200);

      // The call ends: the media server stops, and the launcher exits cleanly.
      await Promise.all([house.client?.close(), wilson.client?.close()]);
      expect(await s.exited).toBe(0);
      expect(s.output()).toMatch(/drained: stopping/);
    },
    START_TIMEOUT_MS + 120_000,
  );

  it(
    'stops at the drain deadlines when requests and calls do not end',
    async () => {
      stack = await startProduction({ API_DRAIN_TIMEOUT: '2', MEDIA_DRAIN_TIMEOUT: '4' }, { beforeStart: addDoctors });
      const s = stack;
      const running = await doctorsCall(s.apiUrl);
      const house = await joinRoom(s.mediaUrl, running.house);
      expect(house.client).toBeDefined();
      const slow = slowRequest(s.apiUrl);
      await slow.sent;
      expect(await status(`${s.apiUrl}/ready`)).toBe(200);
      const started = Date.now();
      s.process.kill('SIGTERM');
      // The request never finishes: the API cuts it at its deadline.
      expect(await slow.response).toBe('ECONNRESET');
      const cutAfter = Date.now() - started;
      expect(cutAfter).toBeGreaterThanOrEqual(1900);
      // The call never ends: the media server closes it at its deadline, telling the client why.
      expect(await house.client?.closed).toEqual({ code: 1001, reason: 'SHUTDOWN' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(3900);
      expect(await s.exited).toBe(0);
      expect(s.output()).toMatch(/drain deadline passed: cutting the requests still in flight/);
      expect(s.output()).toMatch(/drain deadline passed: closing the rooms still open/);
    },
    START_TIMEOUT_MS + 120_000,
  );
});

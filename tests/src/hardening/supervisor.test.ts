// The launcher supervises: a service killed with SIGKILL under a started platform comes back (new
// pid, healthy, its data intact) while the other keeps running untouched; a service that keeps
// crashing right after each start is given up on after N restarts.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { superviseService, type PlatformLogLine } from '../../../scripts/platform.mjs';
import { roomToken, type TestPlatform } from '../calls/harness.js';
import { startTestPlatform } from '../platform.js';
import { TestSignalingClient, waitFor } from '@telemed/test-kit';

let platform: TestPlatform;
const lines: PlatformLogLine[] = [];

const healthy = async (url: string): Promise<true | undefined> => {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200 ? true : undefined;
  } catch {
    return undefined;
  }
};

const login = async (): Promise<number> =>
  (
    await fetch(`${platform.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@patients.demo', password: 'telemed-demo' }),
    })
  ).status;

beforeAll(async () => {
  platform = (await startTestPlatform({
    apiEnv: { SEED_DEMO: 'true' },
    numWorkers: 1,
    supervise: { backoffMs: 200 },
    onLog: (line) => lines.push(line),
  })) as TestPlatform;
});

afterAll(async () => {
  await platform?.stop();
});

describe('startPlatform with supervise', () => {
  it('restarts the API after kill -9 while the media server keeps its process and its sessions', async () => {
    const { api, media } = { api: platform.processes.api.pid!, media: platform.processes.media.pid! };
    // A signaling session open on the media server must live through the API's crash.
    const rtc = await TestSignalingClient.connect({ url: platform.mediaWsUrl, token: roomToken(platform, 'supervised', 'watcher') });
    let rtcClosed = false;
    void rtc.closed.then(() => (rtcClosed = true));

    process.kill(api, 'SIGKILL');
    await waitFor('a new API process', async () => (platform.processes.api.pid !== api ? true : undefined), { timeoutMs: 60_000 });
    await waitFor('the restarted API to be healthy', () => healthy(platform.apiUrl), { timeoutMs: 90_000 });
    expect(await login()).toBe(200); // the database (PGlite, killed mid-flight) opened again
    expect(platform.processes.media.pid).toBe(media);
    expect(platform.processes.media.exitCode).toBeNull();
    expect(await healthy(platform.mediaHttpUrl)).toBe(true);
    expect(rtcClosed).toBe(false);
    expect(platform.restarts()).toEqual({ 'media-server': 0, api: 1 });
    expect(lines.some((l) => l.service === 'api' && l.levelValue === 40 && /exited unexpectedly \(signal SIGKILL\).*restarting/.test(l.msg))).toBe(true);
    await rtc.close();
  });

  it('restarts the media server after kill -9 while the API keeps its process', async () => {
    const { api, media } = { api: platform.processes.api.pid!, media: platform.processes.media.pid! };
    process.kill(media, 'SIGKILL');
    await waitFor('a new media server process', async () => (platform.processes.media.pid !== media ? true : undefined), { timeoutMs: 60_000 });
    await waitFor('the restarted media server to be healthy', () => healthy(platform.mediaHttpUrl), { timeoutMs: 90_000 });
    expect(platform.processes.api.pid).toBe(api);
    expect(await login()).toBe(200);
    expect(platform.restarts()).toEqual({ 'media-server': 1, api: 1 });
  });
});

describe('superviseService', () => {
  it('gives up on a service that crashes right after each start, after maxFastCrashes restarts', async () => {
    const logged: string[] = [];
    let gaveUp: { code: number | null } | undefined;
    const service = superviseService('crasher', () => spawn(process.execPath, ['-e', 'process.exit(3)']), {
      maxFastCrashes: 2,
      backoffMs: 10,
      onLog: (line) => logged.push(line.msg),
      onGiveUp: (exit) => (gaveUp = exit),
    });
    await waitFor('the supervisor to give up', async () => gaveUp, { timeoutMs: 30_000 });
    expect(gaveUp).toEqual({ code: 3, signal: null });
    expect(service.state).toBe('given-up');
    expect(service.restarts).toBe(2);
    expect(logged.filter((l) => l.includes('; restarting it in'))).toHaveLength(2);
    await service.stop();
  });

  it('stops for good when asked, even during a backoff', async () => {
    let restarted = 0;
    const service = superviseService('sleeper', () => spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(1), 50)']), {
      backoffMs: 60_000,
      onRestart: () => restarted++,
    });
    await waitFor('the first crash', async () => (service.state === 'restarting' ? true : undefined), { timeoutMs: 30_000 });
    await service.stop();
    expect(service.state).toBe('stopped');
    expect(restarted).toBe(0);
  });
});

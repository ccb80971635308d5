// ICE failure with a working signaling socket, in a call made through the API (Alice calls Dr. Grey): the media server's WebRTC port is blocked on loopback
// with an nftables rule (both directions, UDP and TCP, that port only) for at least 5 s, and 3 s past
// the moment the SDK restarted ICE, while signaling stays up. The SDK must notice, restart ICE over the same socket and come back with the same producers and
// consumers: no socket reconnect, no rejoin; the call's timeline gets one ICE reconnection per
// participant. Needs root and nft (scripts/system-packages.sh test).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallTimelineEntry } from '@telemed/sdk';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { startDemoCall, type DemoCall } from './demo-call.js';
import { joinPage, roomToken, waitForFreshMedia, type TestPlatform } from './harness.js';
import { sdkPage, serveSdkBundle, type SdkSite } from './sdk-site.js';
import { waitFor } from '@telemed/test-kit';

/** Drops every packet to or from `port` (UDP and TCP) on this host until the returned function runs. */
function blockPort(port: number): () => void {
  const table = `telemed_ice_test_${port}`;
  const rules = ['udp dport', 'udp sport', 'tcp dport', 'tcp sport'].map((match) => `add rule inet ${table} input ${match} ${port} drop`);
  execFileSync('nft', ['-f', '-'], {
    input: [`add table inet ${table}`, `add chain inet ${table} input { type filter hook input priority 0; policy accept; }`, ...rules].join('\n'),
  });
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    execFileSync('nft', ['delete', 'table', 'inet', table]);
  };
}

interface PageView {
  states: string[];
  reconnected: number;
  cameraSid: string | undefined;
  remoteTrackSids: string[];
  /** The media server port of the selected ICE candidate pair. */
  remotePort: number | undefined;
}

function view(page: TestPage): Promise<PageView> {
  return page.evaluate(async () => {
    const w = window as typeof window & { reconnectedEvents?: unknown[] };
    const { room, states } = window.telemed;
    let remotePort: number | undefined;
    const report = await room.localParticipant.getTrack('camera')?.getStats();
    report?.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'candidate-pair' || s.nominated !== true || s.state !== 'succeeded') return;
      report.forEach((c: Record<string, unknown>) => {
        if (c.id === s.remoteCandidateId) remotePort = Number(c.port);
      });
    });
    return {
      states: [...states],
      reconnected: w.reconnectedEvents?.length ?? 0,
      cameraSid: room.localParticipant.getTrack('camera')?.sid,
      remoteTrackSids: [...room.remoteParticipants.values()].flatMap((p) => p.tracks.map((t) => t.sid)).sort(),
      remotePort,
    };
  });
}

describe('ICE failure with the signaling socket up', () => {
  let platform: TestPlatform;
  let browser: TestBrowser;
  let alice: TestPage;
  let grey: TestPage;
  let site: SdkSite;
  let demo: DemoCall;
  /** Room identities: the users' ids. */
  const ids = { alice: '', grey: '' };

  beforeAll(async () => {
    [platform, browser, site] = await Promise.all([
      startTestPlatform({ apiEnv: { SEED_DEMO: 'true' } }) as Promise<TestPlatform>,
      launchBrowser('chromium'),
      serveSdkBundle(),
    ]);
    demo = await startDemoCall(platform.apiUrl);
    Object.assign(ids, { alice: demo.alice.user!.id, grey: demo.grey.user!.id });
    const { aliceAccess, greyAccess } = demo;
    alice = await joinPage(browser, platform, demo.call.id, 'alice', { params: { res: '640x360', token: aliceAccess.token, url: aliceAccess.url } });
    grey = await joinPage(browser, platform, demo.call.id, 'grey', { params: { res: '640x360', token: greyAccess.token, url: greyAccess.url } });
    await Promise.all([waitForFreshMedia(alice, [ids.grey], 30_000), waitForFreshMedia(grey, [ids.alice], 30_000)]);
    for (const page of [alice, grey]) {
      await page.evaluate(() => {
        const w = window as typeof window & { reconnectedEvents: unknown[] };
        w.reconnectedEvents = [];
        window.telemed.room.on('reconnected', (info) => w.reconnectedEvents.push(info));
      });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await site?.close();
  });

  it('restarts ICE by itself, returns to connected and media flows both ways with the same producers and consumers', async () => {
    const before = { alice: await view(alice), grey: await view(grey) };
    const port = before.alice.remotePort;
    expect(port).toBeGreaterThan(0);
    expect(before.grey.remotePort).toBe(port); // one room, one worker, one WebRtcServer port
    const unblock = blockPort(port!);
    const started = Date.now();
    let reconnectingMs: number;
    try {
      reconnectingMs = await waitFor(
        'both pages detect the ICE failure (reconnecting)',
        async () => {
          const seen = await Promise.all([alice, grey].map(async (p, i) => (await view(p)).states.slice([before.alice, before.grey][i]!.states.length)));
          return seen.every((s) => s.includes('reconnecting')) ? Date.now() - started : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      // Keep the port blocked for 5 s in all, and at least 3 s after the SDK restarted ICE, so that
      // the restart's own connectivity checks fail too and recovery cannot ride on a lucky moment.
      await new Promise((resolve) => setTimeout(resolve, Math.max(3000, 5000 - (Date.now() - started))));
    } finally {
      unblock();
    }
    const unblockedMs = Date.now() - started;
    const connectedMs = await waitFor(
      'both pages connected again',
      async () => {
        const views = await Promise.all([view(alice), view(grey)]);
        return views.every((v) => v.states.at(-1) === 'connected') ? Date.now() - started : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    );
    await Promise.all([waitForFreshMedia(alice, [ids.grey], 20_000), waitForFreshMedia(grey, [ids.alice], 20_000)]);
    const mediaMs = Date.now() - started;
    console.log(
      `[ice] port ${port} blocked: reconnecting after ${reconnectingMs} ms, unblocked at ${unblockedMs} ms, both connected at ${connectedMs} ms, media both ways verified at ${mediaMs} ms`,
    );

    for (const [name, page] of [
      ['alice', alice],
      ['grey', grey],
    ] as const) {
      const after = await view(page);
      // An ICE restart only: the socket never dropped (no `reconnected`), same producer, same consumers.
      expect(after.reconnected, `${name} reconnected the socket`).toBe(0);
      expect(after.cameraSid).toBe(before[name].cameraSid);
      expect(after.remoteTrackSids).toEqual(before[name].remoteTrackSids);
      expect(after.states.slice(before[name].states.length)).toEqual(['reconnecting', 'connected']);
    }

    // The media server reported each participant's recovery once (however many restartIce requests
    // it took: one per transport and attempt) and the API put it in the call's timeline.
    const reconnections = (entries: CallTimelineEntry[]) => entries.filter((e) => e.kind === 'reconnected');
    const timeline = await waitFor(
      'both ICE reconnections in the call timeline',
      async () => {
        const found = reconnections(await demo.alice.callTimeline(demo.call.id));
        return found.length >= 2 ? found : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    console.log(`[ice] call timeline: ${timeline.map((e) => `${e.displayName} reconnected ${e.detail}`).join(' | ')}`);
    expect(timeline.map((e) => e.userId).sort()).toEqual([ids.alice, ids.grey].sort());
    for (const entry of timeline) {
      const detail = JSON.parse(entry.detail ?? '{}') as { how: string; offlineMs: number; restarts: number };
      expect(detail.how).toBe('ice');
      expect(detail.restarts).toBeGreaterThanOrEqual(2); // the send and the receive transport
      expect(detail.offlineMs).toBeGreaterThan(0);
      expect(detail.offlineMs).toBeLessThan(connectedMs);
    }
  });

  it('gives up after its bounded ICE restarts when the media path never comes back, with CONNECTION_FAILED', async () => {
    // Carol's room: 2 attempts, 1.5 s each to connect, short backoff. Alice and Dr. Grey keep the
    // defaults (10 s per restart, 20 attempts) and must still be connected after the port opens.
    const carol = await sdkPage(browser, `${platform.apiUrl}/dev/call.html`, site);
    await carol.evaluate(
      async ({ url, token }) => {
        const { Room } = window.sdk;
        const room = new Room({ maxReconnectAttempts: 2, iceRestartTimeoutMs: 1500, reconnectBaseDelayMs: 100, reconnectMaxDelayMs: 200 });
        const seen: { states: string[]; error?: { name: string; code: string } } = { states: [] };
        room.on('connectionStateChanged', (state) => seen.states.push(state));
        room.on('disconnected', (error) => {
          seen.error = error ? { name: error.name, code: error.code } : undefined;
        });
        await room.connect(url, token);
        await room.localParticipant.setCameraEnabled(true, { width: 320, height: 180 });
        await room.localParticipant.setMicrophoneEnabled(true);
        Object.assign(window, { carol: seen });
      },
      { url: platform.mediaWsUrl, token: roomToken(platform, demo.call.id, 'carol') },
    );
    await waitForFreshMedia(alice, ['carol'], 30_000);
    const port = (await view(alice)).remotePort!;
    const carolView = (): Promise<{ states: string[]; error?: { name: string; code: string } }> =>
      carol.evaluate(() => (window as typeof window & { carol: { states: string[]; error?: { name: string; code: string } } }).carol);

    const unblock = blockPort(port);
    const started = Date.now();
    let gaveUpMs: number;
    try {
      gaveUpMs = await waitFor('carol gives up', async () => ((await carolView()).states.at(-1) === 'disconnected' ? Date.now() - started : undefined), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
    } finally {
      unblock();
    }
    const seen = await carolView();
    expect(seen.states.slice(-2)).toEqual(['reconnecting', 'disconnected']);
    expect(seen.error).toEqual({ name: 'ConnectionError', code: 'CONNECTION_FAILED' });
    const recoveredMs = await waitFor(
      'Alice and Dr. Grey connected again',
      async () => {
        const views = await Promise.all([view(alice), view(grey)]);
        return views.every((v) => v.states.at(-1) === 'connected') ? Date.now() - started : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    );
    await Promise.all([waitForFreshMedia(alice, [ids.grey], 20_000), waitForFreshMedia(grey, [ids.alice], 20_000)]);
    console.log(
      `[ice] port ${port} blocked for good: carol (2 restarts of 1.5 s) disconnected with CONNECTION_FAILED after ${gaveUpMs} ms; Alice and Dr. Grey (defaults) connected again ${recoveredMs} ms after the block began`,
    );
    expect(carol.errors).toEqual([]);
  });

  it('ran without page errors', () => {
    for (const page of [alice, grey]) expect(page.errors).toEqual([]);
  });
});

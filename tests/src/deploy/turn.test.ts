// TURN: the production API hands out time-limited coturn credentials (use-auth-secret) with every
// room access; real coturn on loopback (deploy/turnserver.conf, see coturn.ts for the two lines a
// loopback test changes) refuses expired ones and relays a call that Chromium is forced to send
// through it (iceTransportPolicy 'relay'), whose video is decoded on both sides.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@telemed/sdk';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { inboundStats } from '../call-stats.js';
import { serveSdkBundle, sdkPage, type SdkSite } from '../calls/sdk-site.js';
import { startCoturn, type Coturn } from './coturn.js';
import { gatherRelay } from './turn-probe.js';
import { addDoctors, doctorsCall, START_TIMEOUT_MS, startProduction, type ProductionStack } from './production.js';
import { freePortRange, turnCredential, waitFor } from '@telemed/test-kit';

/** The type of the local candidate in the selected pair of a remote track's transport. */
function selectedLocalCandidate(page: TestPage): Promise<string | undefined> {
  return page.evaluate(async () => {
    const room = (window as unknown as { telemed: { room: Sdk.Room } }).telemed.room;
    for (const participant of room.remoteParticipants.values()) {
      for (const track of participant.tracks) {
        const stats = new Map<string, Record<string, unknown>>();
        (await track.getStats()).forEach((s: Record<string, unknown>) => stats.set(s.id as string, s));
        const transport = [...stats.values()].find((s) => s.type === 'transport');
        const pair =
          stats.get(String(transport?.selectedCandidatePairId)) ??
          [...stats.values()].find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
        const local = pair && stats.get(String(pair.localCandidateId));
        if (local) return String(local.candidateType);
      }
    }
    return undefined;
  });
}

describe('TURN through coturn', () => {
  const secret = randomBytes(32).toString('base64url');
  let stack: ProductionStack;
  let coturn: Coturn;
  let site: SdkSite;
  let browser: TestBrowser;

  beforeAll(async () => {
    const [turnPort, relayBase] = [await freePortRange(1), await freePortRange(40)];
    stack = await startProduction({ TURN_URLS: `turn:127.0.0.1:${turnPort}?transport=udp`, TURN_SECRET: secret }, { beforeStart: addDoctors });
    [coturn, site, browser] = await Promise.all([
      startCoturn({ dir: path.join(stack.dir, 'coturn'), port: turnPort, relayPorts: [relayBase, relayBase + 39], secret }),
      serveSdkBundle(),
      launchBrowser('chromium'),
    ]);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await coturn?.stop();
    await stack?.stop();
    if (stack) fs.rmSync(stack.dir, { recursive: true, force: true });
  });

  it('relays with the credentials the API hands out and refuses expired ones', async () => {
    const { wilson } = await doctorsCall(stack.apiUrl);
    expect(wilson.iceServers).toHaveLength(1);
    const [server] = wilson.iceServers;
    const page = await browser.newPage(`${stack.apiUrl}/`);
    const fresh = await gatherRelay(page, wilson.iceServers);
    expect(fresh.candidates).toContain('relay');

    // The same user, signed correctly with the shared secret, but expired a minute ago.
    const user = server!.username.split(':')[1]!;
    const expired = await gatherRelay(page, [turnCredential({ urls: server!.urls, secret, user, expiresAt: new Date(Date.now() - 60_000) })]);
    expect(expired.candidates).toEqual([]);
    expect(expired.errors).toContain(401);
    // And a forged password for a valid expiry.
    const validUntil = new Date(Number(server!.username.split(':')[0]) * 1000);
    const forged = await gatherRelay(page, [turnCredential({ urls: server!.urls, secret: 'not-the-secret', user, expiresAt: validUntil })]);
    expect(forged.candidates).toEqual([]);
    expect(forged.errors).toContain(401);
    await page.close();
  });

  it('a call forced through TURN (relay only) decodes video on both sides', async () => {
    const call = await doctorsCall(stack.apiUrl);
    const mediaWs = `ws://127.0.0.1:${stack.ports.media}/rtc`;
    const pages = await Promise.all(
      [call.house, call.wilson].map(async (access) => {
        const page = await sdkPage(browser, `${stack.apiUrl}/`, site);
        await page.evaluate(
          async ({ url, token, iceServers }) => {
            const { Room } = window.sdk;
            const room = new Room();
            (window as unknown as { telemed: { room: Sdk.Room } }).telemed = { room };
            await room.connect(url, token, { iceServers, iceTransportPolicy: 'relay' });
            await room.localParticipant.setCameraEnabled(true, { width: 320, height: 180 });
            await room.localParticipant.setMicrophoneEnabled(true);
          },
          { url: mediaWs, token: access.token, iceServers: access.iceServers },
        );
        return page;
      }),
    );
    const decoded = await Promise.all(
      pages.map((page) =>
        waitFor(
          'remote video decoded through TURN',
          async () => {
            const video = (await inboundStats(page)).find((s) => s.kind === 'video');
            return video && video.framesDecoded > 10 ? video.framesDecoded : undefined;
          },
          { timeoutMs: 60_000 },
        ),
      ),
    );
    const paths = await Promise.all(pages.map(selectedLocalCandidate));
    console.log(`[deploy] through coturn: frames decoded ${decoded.join(' / ')}, local candidates ${paths.join(' / ')}`);
    expect(paths).toEqual(['relay', 'relay']);
    // coturn saw the allocations of both users.
    for (const access of [call.house, call.wilson]) expect(coturn.output()).toContain(access.iceServers[0]!.username.split(':')[1]!);
    for (const page of pages) await page.close();
  });
});

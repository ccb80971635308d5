// Typed errors end to end in real Chromium: a denied camera/microphone permission surfaces as the
// SDK's PermissionError (PERMISSION_DENIED) and a device that cannot be opened (an exact deviceId
// that does not exist: OverconstrainedError) as DeviceError (DEVICE_NOT_FOUND), from the waiting
// room's checkDevices() and from a connected room's controls, which stay usable afterwards.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@telemed/sdk';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform } from '../platform.js';
import { roomToken, type TestPlatform } from './harness.js';
import { sdkPage, serveSdkBundle, type SdkSite } from './sdk-site.js';

const ROOM = 'device-errors';

/** What a rejection looked like in the page: its class (by instanceof) and code. */
interface Caught {
  name: string;
  code: string | undefined;
  telemedError: boolean;
  permissionError: boolean;
  deviceError: boolean;
  cause: string | undefined;
}

/** Runs in the page (serialised): classifies an error against the SDK's classes. */
const classify = `(sdk, error) => ({
  name: error?.name, code: error?.code, telemedError: error instanceof sdk.TelemedError,
  permissionError: error instanceof sdk.PermissionError, deviceError: error instanceof sdk.DeviceError,
  cause: error?.cause?.name,
})`;

type Scenario = (sdk: typeof Sdk, args: { url: string; token: string }) => Promise<unknown>;

/** Runs each scenario in the page and returns what it threw (undefined when it did not throw). */
function runScenarios(
  evaluate: (
    fn: (a: { classify: string; url: string; token: string; scenarios: string[] }) => Promise<(Caught | undefined)[]>,
    arg: { classify: string; url: string; token: string; scenarios: string[] },
  ) => Promise<(Caught | undefined)[]>,
  url: string,
  token: string,
  scenarios: Scenario[],
): Promise<(Caught | undefined)[]> {
  return evaluate(
    async ({ classify: classifySource, url: mediaUrl, token: roomTokenValue, scenarios: sources }) => {
      const sdk = window.sdk;
      const toCaught = new Function(`return ${classifySource}`)() as (s: typeof Sdk, e: unknown) => Caught;
      const results: (Caught | undefined)[] = [];
      for (const source of sources) {
        const scenario = new Function(`return ${source}`)() as Scenario;
        try {
          await scenario(sdk, { url: mediaUrl, token: roomTokenValue });
          results.push(undefined);
        } catch (error) {
          results.push(toCaught(sdk, error));
        }
      }
      return results;
    },
    { classify, url, token, scenarios: scenarios.map((s) => s.toString()) },
  );
}

describe('typed device and permission errors in chromium', () => {
  let platform: TestPlatform;
  let site: SdkSite;
  let denied: Browser;
  let deniedPage: Page;
  let browser: TestBrowser;
  let page: TestPage;

  beforeAll(async () => {
    [platform, site] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, serveSdkBundle()]);
    // A browser whose user says no: fake devices, but no auto-accepting fake UI, and prompts denied.
    denied = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--deny-permission-prompts'],
    });
    deniedPage = await (await denied.newContext({ bypassCSP: true })).newPage();
    await deniedPage.goto(`${platform.apiUrl}/dev/call.html`);
    await deniedPage.evaluate(async (url) => {
      const load = new Function('url', 'return import(url)') as (u: string) => Promise<typeof Sdk>;
      window.sdk = await load(url);
    }, site.bundleUrl);
    browser = await launchBrowser('chromium');
    page = await sdkPage(browser, `${platform.apiUrl}/dev/call.html`, site);
  });

  afterAll(async () => {
    await denied?.close();
    await browser?.close();
    await platform?.stop();
    await site?.close();
  });

  it('a denied permission is a PermissionError (PERMISSION_DENIED) from checkDevices and from the room controls', async () => {
    const [check, camera, microphone, stillConnected] = await runScenarios(
      (fn, arg) => deniedPage.evaluate(fn, arg),
      platform.mediaWsUrl,
      roomToken(platform, ROOM, 'denied'),
      [
        (sdk) => sdk.checkDevices(),
        async (sdk, { url, token }) => {
          const room = new sdk.Room();
          Object.assign(window, { room });
          await room.connect(url, token);
          await room.localParticipant.setCameraEnabled(true);
        },
        (_sdk) => (window as typeof window & { room: Sdk.Room }).room.localParticipant.setMicrophoneEnabled(true),
        async (_sdk) => {
          const room = (window as typeof window & { room: Sdk.Room }).room;
          // The call goes on without devices: connected, nothing published, chat works.
          if (room.state !== 'connected' || room.localParticipant.tracks.length !== 0)
            throw new Error(`room ${room.state} with ${room.localParticipant.tracks.length} tracks`);
          await room.disconnect();
        },
      ],
    );
    console.log(
      `[errors] denied: checkDevices → ${check?.name} ${check?.code} (cause ${check?.cause}); setCameraEnabled → ${camera?.name} ${camera?.code}; setMicrophoneEnabled → ${microphone?.name} ${microphone?.code}`,
    );
    for (const caught of [check, camera, microphone]) {
      expect(caught).toMatchObject({
        name: 'PermissionError',
        code: 'PERMISSION_DENIED',
        telemedError: true,
        permissionError: true,
        deviceError: false,
        cause: 'NotAllowedError',
      });
    }
    expect(stillConnected).toBeUndefined();
  });

  it('a device that cannot be opened is a DeviceError (DEVICE_NOT_FOUND); the published camera keeps going', async () => {
    const [check, camera, switched, after] = await runScenarios(
      (fn, arg) => page.evaluate(fn, arg),
      platform.mediaWsUrl,
      roomToken(platform, ROOM, 'granted'),
      [
        (sdk) => sdk.checkDevices({ cameraId: 'no-such-camera' }),
        async (sdk, { url, token }) => {
          const room = new sdk.Room();
          Object.assign(window, { room });
          await room.connect(url, token);
          await room.localParticipant.setCameraEnabled(true, { deviceId: { exact: 'no-such-camera' } });
        },
        async (_sdk) => {
          const room = (window as typeof window & { room: Sdk.Room }).room;
          await room.localParticipant.setCameraEnabled(true, { width: 640, height: 360 });
          await room.localParticipant.switchActiveDevice('videoinput', 'no-such-camera');
        },
        async (_sdk) => {
          const room = (window as typeof window & { room: Sdk.Room }).room;
          const track = room.localParticipant.getTrack('camera');
          if (!track?.sid || track.mediaStreamTrack.readyState !== 'live') throw new Error('the camera was not kept');
          await room.disconnect();
        },
      ],
    );
    console.log(
      `[errors] missing device: checkDevices → ${check?.name} ${check?.code} (cause ${check?.cause}); setCameraEnabled → ${camera?.name} ${camera?.code}; switchActiveDevice → ${switched?.name} ${switched?.code}`,
    );
    for (const caught of [check, camera, switched]) {
      expect(caught).toMatchObject({
        name: 'DeviceError',
        code: 'DEVICE_NOT_FOUND',
        telemedError: true,
        permissionError: false,
        deviceError: true,
        cause: 'OverconstrainedError',
      });
    }
    expect(after).toBeUndefined();
  });
});

// Shared helpers for the call tests: one platform and one browser per test file, pages joined
// through the development call page, server-side stats and fault injection over the service API.
import type { Room } from '@telemed/sdk';
import type { ConsumerStatsInfo, RoomGrants, RoomStatsInfo } from '@telemed/sdk/protocol';
import type { DevCallPageHandle } from '../../../demo-app/src/dev/page-handle.js';
import type { TestBrowser, TestPage } from '../browser.js';
import { inboundStats, type InboundSample } from '../call-stats.js';
import type { Platform } from '../platform.js';
import { waitFor } from '@telemed/test-kit';
import { roomToken as issueRoomToken } from '@telemed/test-kit';

export type TestPlatform = Platform & { serverErrors: string[] };

export interface JoinOptions {
  /** Extra query parameters for the call page (e.g. `{ res: '320x240', publish: '0' }`). */
  params?: Record<string, string>;
  /** Sign a token with these grants instead of asking the API's dev endpoint. */
  grants?: Partial<RoomGrants>;
}

/** A room token for this platform's media server, from the API's own issuer. */
export function roomToken(platform: TestPlatform, room: string, identity: string, grants: Partial<RoomGrants> = {}): string {
  return issueRoomToken({ secret: platform.secrets.roomTokenSecret, room, identity, grants });
}

/** Opens the call page for `identity` in `room` and waits until it is connected. */
export async function joinPage(browser: TestBrowser, platform: TestPlatform, room: string, identity: string, options: JoinOptions = {}): Promise<TestPage> {
  const query = new URLSearchParams({ room, name: identity, autojoin: '1', ...options.params });
  if (options.grants) {
    query.set('token', roomToken(platform, room, identity, options.grants));
    query.set('url', platform.mediaWsUrl);
  }
  const page = await browser.newPage(`${platform.apiUrl}/dev/call.html?${query.toString()}`);
  // A deadline for a hang, not a speed check: 1-2 s when idle, 20 s and more on a loaded machine.
  await waitFor(`${identity} connected`, async () => ((await connectionState(page)) === 'connected' ? true : undefined), { timeoutMs: 60_000 });
  return page;
}

export function connectionState(page: TestPage): Promise<string | undefined> {
  return page.evaluate(() => window.telemed.room?.state);
}

export async function roomStats(platform: TestPlatform, room: string): Promise<RoomStatsInfo> {
  const res = await fetch(`${platform.mediaHttpUrl}/rooms/${encodeURIComponent(room)}/stats`, {
    headers: { authorization: `Bearer ${platform.secrets.serviceSecret}` },
  });
  if (!res.ok) throw new Error(`room stats: HTTP ${res.status}`);
  return (await res.json()) as RoomStatsInfo;
}

/** Renders the remote camera on a call page at a CSS size, or hides/shows it. */
export function renderRemoteCamera(page: TestPage, size: { width: number; height: number } | 'hidden' | 'shown'): Promise<void> {
  return page.evaluate((s) => {
    const video = document.querySelector<HTMLVideoElement>('.tile:not(.local) video[data-source="camera"]');
    if (!video) throw new Error('no remote camera element');
    if (s === 'hidden') video.hidden = true;
    else if (s === 'shown') video.hidden = false;
    else Object.assign(video.style, { width: `${s.width}px`, height: `${s.height}px`, objectFit: 'contain' });
  }, size);
}

/** The server's consumer of the room's camera producer for the call page `page`. */
export async function cameraConsumer(platform: TestPlatform, room: string, page: TestPage): Promise<ConsumerStatsInfo | undefined> {
  const sid = await page.evaluate(() => window.telemed.room.localParticipant.sid);
  const stats = await roomStats(platform, room);
  const camera = stats.producers.find((p) => p.source === 'camera');
  return stats.consumers.find((c) => c.participantId === sid && c.producerId === camera?.producerId);
}

export async function service(platform: TestPlatform, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${platform.mediaHttpUrl}${path}`, { method, headers: { authorization: `Bearer ${platform.secrets.serviceSecret}` } });
  return { status: res.status, body: await res.json() };
}

/** Video frames decoded and audio bytes received from `from`, as `page` sees them now. */
export async function received(page: TestPage, from: string, source = 'camera'): Promise<{ frames: number; audioBytes: number }> {
  const samples: InboundSample[] = await inboundStats(page);
  const video = samples.filter((s) => s.from === from && s.kind === 'video' && s.source === source);
  const audio = samples.filter((s) => s.from === from && s.kind === 'audio');
  return { frames: video.reduce((n, s) => n + s.framesDecoded, 0), audioBytes: audio.reduce((n, s) => n + s.bytesReceived, 0) };
}

/** Waits until `page` decodes new video frames and receives new audio from every one of `from`. */
export async function waitForFreshMedia(page: TestPage, from: string[], timeoutMs = 60_000, what = 'media'): Promise<void> {
  const start = new Map<string, { frames: number; audioBytes: number }>();
  for (const other of from) start.set(other, await received(page, other));
  await waitFor(
    `${what} flowing to a page from ${from.join(', ')}`,
    async () => {
      for (const other of from) {
        const now = await received(page, other);
        const before = start.get(other)!;
        if (now.frames <= before.frames + 5 || now.audioBytes <= before.audioBytes) return undefined;
      }
      return true;
    },
    { timeoutMs },
  );
}

/** The dev call page's `window.telemed` once its room has joined, as `page.evaluate` reads it. */
export type PageHandle = Omit<DevCallPageHandle, 'room'> & { room: Room };

/** Video frames an SDK page's Room has decoded from all remote participants; `roomPath` is where the page keeps it (`room`, `embedded.room`). */
export function decodedVideoFrames(page: TestPage, roomPath: string): Promise<number> {
  return page.evaluate(async (where) => {
    type Remote = { tracks: { kind: string; getStats(): Promise<RTCStatsReport> }[] };
    const room = where.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], window) as
      { remoteParticipants: Map<string, Remote> } | undefined;
    let decoded = 0;
    for (const participant of room?.remoteParticipants.values() ?? []) {
      for (const track of participant.tracks) {
        if (track.kind !== 'video') continue;
        (await track.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'inbound-rtp') decoded += Number(s.framesDecoded ?? 0);
        });
      }
    }
    return decoded;
  }, roomPath);
}

// Code that runs inside the Chromium pages (serialised by Playwright: each function is
// self-contained). One measured join per call: from the connect call to the first decoded remote
// video frame and to remote audio samples flowing, with a timeline of every signaling message.
import type * as SdkModule from '@telemed/sdk';
import type * as MediasoupClient from 'mediasoup-client';

export interface JoinArgs {
  mode: 'sdk' | 'baseline';
  wsUrl: string;
  token: string;
  timeoutMs: number;
}

export interface TimelineEntry {
  t: number;
  dir: 'out' | 'in';
  what: string;
}

export interface JoinResult {
  ok: boolean;
  error?: string;
  /** ms from the connect call to the first remote video frame presented (requestVideoFrameCallback). */
  videoMs?: number;
  /** ms from the connect call to the first remote audio samples played out (inbound-rtp totalSamplesReceived > 0). */
  audioMs?: number;
  /** ms from the connect call until connect() resolved (SDK) or the join response arrived (baseline). */
  connectedMs?: number;
  timeline: TimelineEntry[];
}

/** Makes every WebSocket record what it sends and receives (method or response id), relative to `window.__t0`. */
export function instrumentWebSocket(): void {
  const w = window as unknown as { __timeline: TimelineEntry[]; __t0: number; WebSocket: typeof WebSocket };
  w.__timeline = [];
  w.__t0 = performance.now();
  const record = (dir: 'out' | 'in', data: unknown): void => {
    let what = 'binary';
    if (typeof data === 'string') {
      try {
        const m = JSON.parse(data) as { type: string; method?: string; id?: number };
        what = m.method ? `${m.type === 'request' ? 'request' : 'notification'} ${m.method}${m.id !== undefined ? ` #${m.id}` : ''}` : `response #${m.id}`;
      } catch {
        what = 'text';
      }
    }
    w.__timeline.push({ t: Math.round((performance.now() - w.__t0) * 10) / 10, dir, what });
  };
  const Original = w.WebSocket;
  w.WebSocket = class extends Original {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event) => record('in', event.data));
    }
    override send(data: Parameters<WebSocket['send']>[0]): void {
      record('out', data);
      super.send(data);
    }
  };
}

export async function measureJoin(args: JoinArgs): Promise<JoinResult> {
  type Json = Record<string, unknown>;
  const w = window as unknown as { __timeline: TimelineEntry[]; __t0: number; __leave?: () => Promise<void> };
  const sdkUrl = '/sdk.mjs';
  const msUrl = '/mediasoup-client.mjs';
  const sdk = args.mode === 'sdk' ? ((await import(sdkUrl)) as typeof SdkModule) : undefined;
  const ms = args.mode === 'baseline' ? ((await import(msUrl)) as typeof MediasoupClient) : undefined;
  const video = document.createElement('video');
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  video.width = 320;
  video.height = 240;
  document.body.append(video);
  // Remote audio is decoded only while something plays it out, as an app's <audio> element does.
  const audio = document.createElement('audio');
  audio.autoplay = true;
  document.body.append(audio);

  let videoMs: number | undefined;
  let audioMs: number | undefined;
  let connectedMs: number | undefined;
  let audioStats: (() => Promise<RTCStatsReport>) | undefined;
  const since = (): number => Math.round((performance.now() - w.__t0) * 10) / 10;
  const firstFrame = new Promise<void>((resolve) => {
    video.requestVideoFrameCallback(() => {
      videoMs = since();
      resolve();
    });
  });
  const audioFlowing = new Promise<void>((resolve) => {
    const poll = async (): Promise<void> => {
      if (audioStats) {
        const report = await audioStats();
        for (const s of report.values()) {
          if (s.type === 'inbound-rtp' && (s as { totalSamplesReceived?: number }).totalSamplesReceived) {
            audioMs ??= since();
            resolve();
            return;
          }
        }
      }
      setTimeout(() => void poll(), 10);
    };
    void poll();
  });

  w.__timeline = [];
  w.__t0 = performance.now();
  try {
    if (sdk) {
      const room = new sdk.Room();
      room.on('trackSubscribed', (track) => {
        if (track.kind === 'video') track.attach(video);
        else {
          track.attach(audio);
          audioStats = () => track.getStats();
        }
      });
      w.__leave = () => room.disconnect();
      await room.connect(args.wsUrl, args.token);
      connectedMs = since();
    } else if (ms) {
      // The leanest join: every request waits for the one before.
      const socket = new WebSocket(`${args.wsUrl}?token=${encodeURIComponent(args.token)}`);
      let nextId = 1;
      const pending = new Map<number, (data: Json) => void>();
      const notifications: { method: string; data: Json }[] = [];
      const handler: { onNotification?: (n: { method: string; data: Json }) => void } = {};
      const welcome = new Promise<Json>((resolve) => {
        socket.addEventListener('message', (event) => {
          const m = JSON.parse(event.data as string) as { type: string; id: number; ok: boolean; data: Json; method: string; error?: Json };
          if (m.type === 'response') pending.get(m.id)?.(m.ok ? m.data : { error: m.error });
          else if (m.method === 'welcome') resolve(m.data);
          else if (handler.onNotification) handler.onNotification(m);
          else notifications.push(m);
        });
      });
      const request = (method: string, data: Json): Promise<Json> => {
        const id = nextId++;
        socket.send(JSON.stringify({ type: 'request', id, method, data }));
        return new Promise((resolve) => pending.set(id, resolve));
      };
      const hello = await welcome;
      const device = new ms.Device();
      await device.load({ routerRtpCapabilities: hello.routerRtpCapabilities as never });
      const recv = device.createRecvTransport((await request('createTransport', { direction: 'recv' })) as never);
      recv.on('connect', ({ dtlsParameters }, callback) => void request('connectTransport', { transportId: recv.id, dtlsParameters: dtlsParameters as unknown as Json }).then(() => callback()));
      const consume = async (n: { method: string; data: Json }): Promise<void> => {
        if (n.method !== 'consumerCreated') return;
        const d = n.data as { consumerId: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: never };
        const consumer = await recv.consume({ id: d.consumerId, producerId: d.producerId, kind: d.kind, rtpParameters: d.rtpParameters });
        await request('resumeConsumer', { consumerId: consumer.id });
        if (d.kind === 'video') video.srcObject = new MediaStream([consumer.track]);
        else {
          audio.srcObject = new MediaStream([consumer.track]);
          audioStats = () => consumer.getStats();
        }
      };
      handler.onNotification = (n) => void consume(n);
      await request('join', { rtpCapabilities: device.rtpCapabilities as unknown as Json });
      connectedMs = since();
      for (const n of notifications.splice(0)) await consume(n);
      w.__leave = async () => {
        // The server closes the socket on leave (1000 LEFT) instead of answering.
        await new Promise((resolve) => {
          socket.addEventListener('close', resolve);
          setTimeout(resolve, 1000);
          void request('leave', {});
        });
        recv.close();
        socket.close();
      };
    }
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no remote media within ${args.timeoutMs} ms`)), args.timeoutMs));
    await Promise.race([Promise.all([firstFrame, audioFlowing]), timeout]);
    return { ok: true, videoMs, audioMs, connectedMs, timeline: w.__timeline };
  } catch (error) {
    return { ok: false, error: String(error), videoMs, audioMs, connectedMs, timeline: w.__timeline };
  } finally {
    await w.__leave?.().catch(() => undefined);
  }
}

/** The publisher every joiner subscribes to: fake camera and microphone through the SDK. */
export async function publish(args: { wsUrl: string; token: string }): Promise<void> {
  const sdkUrl = '/sdk.mjs';
  const sdk = (await import(sdkUrl)) as typeof SdkModule;
  const room = new sdk.Room();
  await room.connect(args.wsUrl, args.token);
  await room.localParticipant.setCameraEnabled(true, { width: 640, height: 360 });
  await room.localParticipant.setMicrophoneEnabled(true);
}

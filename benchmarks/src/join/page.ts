// Code that runs inside the Chromium pages (serialised by Playwright: each function is
// self-contained). One measured join per call: from the connect call to the first decoded remote
// video frame and to remote audio samples flowing, with a timeline of every signaling message.
import type * as SdkModule from '@telemed/sdk';
import type * as MediasoupClient from 'mediasoup-client';

export interface JoinArgs {
  /** `prepared`: the SDK with `room.prepareConnection()` awaited before time zero (what a waiting room gives). */
  mode: 'sdk' | 'prepared' | 'baseline';
  wsUrl: string;
  token: string;
  timeoutMs: number;
}

export interface TimelineEntry {
  t: number;
  /** A signaling message sent (`out`) or received (`in`), a step seen in the page, or one the media server logged. */
  dir: 'out' | 'in' | 'page' | 'server';
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
  /** `prepared` only: ms `prepareConnection()` took (before time zero, not in the figures above). */
  prepareMs?: number;
  /** Whether prepareConnection() said connect() can use it. */
  prepared?: boolean;
  /** The joiner's participant id (matches the media server's join trace). */
  participantId?: string;
  /** Time zero in ms since the epoch, to place the server's trace on the page's timeline. */
  t0Epoch?: number;
  timeline: TimelineEntry[];
}

/**
 * Makes every WebSocket record what it sends and receives (method or response id), and every
 * RTCPeerConnection its ICE and connection (DTLS) states, relative to `window.__t0`.
 */
export function instrumentPage(): void {
  const w = window as typeof window & {
    __timeline: TimelineEntry[];
    __t0: number;
    __pcs: RTCPeerConnection[];
    WebSocket: typeof WebSocket;
    RTCPeerConnection: typeof RTCPeerConnection;
  };
  w.__timeline = [];
  w.__t0 = performance.now();
  w.__pcs = [];
  const at = (): number => Math.round((performance.now() - w.__t0) * 10) / 10;
  const OriginalPc = w.RTCPeerConnection;
  // A transport's role, from its transceivers: a receive transport has recvonly ones.
  const role = (pc: RTCPeerConnection): string => {
    const directions = pc.getTransceivers().map((t) => t.direction);
    return directions.includes('recvonly') ? 'recv' : directions.includes('sendonly') ? 'send' : 'data-only';
  };
  w.RTCPeerConnection = class extends OriginalPc {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      w.__pcs.push(this);
      this.addEventListener('iceconnectionstatechange', () =>
        w.__timeline.push({ t: at(), dir: 'page', what: `${role(this)} pc ice ${this.iceConnectionState}` }),
      );
      this.addEventListener('connectionstatechange', () => w.__timeline.push({ t: at(), dir: 'page', what: `${role(this)} pc ${this.connectionState}` }));
    }
  };
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
    w.__timeline.push({ t: at(), dir, what });
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
  const w = window as typeof window & { __timeline: TimelineEntry[]; __t0: number; __pcs: RTCPeerConnection[]; __leave?: () => Promise<void> };
  const sdkUrl = '/sdk.mjs';
  const msUrl = '/mediasoup-client.mjs';
  const sdk = args.mode !== 'baseline' ? ((await import(sdkUrl)) as typeof SdkModule) : undefined;
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
  let participantId: string | undefined;
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
  // The receive side's video steps as its stats show them: first RTP, keyframe requests, first frame decoded.
  let measuring = true;
  const seen = new Set<string>();
  const step = (what: string, happened: boolean): void => {
    if (!happened || seen.has(what)) return;
    seen.add(what);
    w.__timeline.push({ t: since(), dir: 'page', what });
  };
  // Only the video receiver's stats: a whole peer connection's (the SDK has two) would cost the
  // page more CPU than the baseline's and slow down what is measured.
  const pollVideo = async (): Promise<void> => {
    const receivers = w.__pcs.filter((pc) => pc.connectionState !== 'closed').flatMap((pc) => pc.getReceivers().filter((r) => r.track.kind === 'video'));
    for (const receiver of receivers) {
      for (const s of (await receiver.getStats()).values()) {
        if (s.type !== 'inbound-rtp' || s.kind !== 'video') continue;
        const r = s as { packetsReceived?: number; pliCount?: number; firCount?: number; keyFramesDecoded?: number; framesDecoded?: number };
        step('video first RTP received', (r.packetsReceived ?? 0) > 0);
        step('video PLI sent by the page', (r.pliCount ?? 0) > 0);
        step('video FIR sent by the page', (r.firCount ?? 0) > 0);
        step('video keyframe decoded', (r.keyFramesDecoded ?? 0) > 0);
      }
    }
    if (measuring) setTimeout(() => void pollVideo(), 10);
  };

  // The waiting room's work, before time zero.
  const room = sdk ? new sdk.Room() : undefined;
  let prepareMs: number | undefined;
  let prepared: boolean | undefined;
  if (room && args.mode === 'prepared') {
    const start = performance.now();
    prepared = await room.prepareConnection(args.wsUrl, args.token);
    prepareMs = Math.round((performance.now() - start) * 10) / 10;
  }
  w.__timeline = [];
  w.__t0 = performance.now();
  const t0Epoch = performance.timeOrigin + w.__t0;
  void pollVideo();
  try {
    if (room) {
      room.on('trackSubscribed', (track) => {
        w.__timeline.push({ t: since(), dir: 'page', what: `${track.kind} track subscribed` });
        if (track.kind === 'video') track.attach(video);
        else {
          track.attach(audio);
          audioStats = () => track.getStats();
        }
      });
      w.__leave = () => room.disconnect();
      await room.connect(args.wsUrl, args.token);
      connectedMs = since();
      participantId = room.localParticipant.sid;
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
      participantId = hello.participantId as string;
      const device = new ms.Device();
      await device.load({ routerRtpCapabilities: hello.routerRtpCapabilities as never });
      const recv = device.createRecvTransport((await request('createTransport', { direction: 'recv' })) as never);
      recv.on(
        'connect',
        ({ dtlsParameters }, callback) =>
          void request('connectTransport', { transportId: recv.id, dtlsParameters: dtlsParameters as unknown as Json }).then(() => callback()),
      );
      const consume = async (n: { method: string; data: Json }): Promise<void> => {
        if (n.method !== 'consumerCreated') return;
        const d = n.data as { consumerId: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: never };
        const consumer = await recv.consume({ id: d.consumerId, producerId: d.producerId, kind: d.kind, rtpParameters: d.rtpParameters });
        w.__timeline.push({ t: since(), dir: 'page', what: `${d.kind} track subscribed` });
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
    return { ok: true, videoMs, audioMs, connectedMs, prepareMs, prepared, participantId, t0Epoch, timeline: w.__timeline };
  } catch (error) {
    return { ok: false, error: String(error), videoMs, audioMs, connectedMs, prepareMs, prepared, participantId, t0Epoch, timeline: w.__timeline };
  } finally {
    measuring = false;
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

// What the bots talk to: the platform (the built media server, real signaling, tokens and room
// logic) or the bare harness (mediasoup routers and plain transports in this process, nothing of
// ours). Both expose the same session so one bot drives either, at the same load.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { JsonObject, SignalingRequests, TrackSource } from '@telemed/sdk/protocol';
import { BOT_SIGNALING, roomToken, TestSignalingClient } from '@telemed/test-kit';

type PlainTransportOptions = SignalingRequests['createPlainTransport']['response'];
import { startMediaServer, type MediaServerProcess } from '../common/media-server.js';
import { childPids } from '../common/proc.js';

export interface ConsumerOffer {
  consumerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
}

/** One bot's signaling session with an SFU. */
export interface SfuSession {
  readonly routerRtpCapabilities: types.RtpCapabilities;
  /** Set before join: called for every consumer the SFU creates (paused) for this bot. */
  onConsumer: (offer: ConsumerOffer) => void;
  createPlainTransport(direction: 'send' | 'recv'): Promise<PlainTransportOptions>;
  connectPlainTransport(request: SignalingRequests['connectPlainTransport']['request']): Promise<void>;
  join(rtpCapabilities: types.RtpCapabilities): Promise<void>;
  produce(request: { transportId: string; kind: types.MediaKind; source: TrackSource; rtpParameters: types.RtpParameters }): Promise<string>;
  resumeConsumer(consumerId: string): Promise<void>;
  close(): Promise<void>;
}

export interface SfuTarget {
  /** The cross-node group's two targets are in cluster-targets.ts. */
  readonly name: 'platform' | 'bare' | 'same-node' | 'cross-node';
  connect(roomId: string, identity: string): Promise<SfuSession>;
  /** The mediasoup worker processes doing the SFU's work. */
  workerPids(): number[];
  /** Other processes of the SFU (the media server's Node process), for memory and CPU. */
  controlPids(): number[];
  close(): Promise<void>;
}

export const PLAIN_SRTP = { rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite: 'AEAD_AES_256_GCM' } as const;

/** The codecs the platform's routers offer for the tracks the bots send (media-server/src/codecs.ts). */
export const SFU_CODECS: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
];

// --- the platform -------------------------------------------------------------------------------

/** A bot's session with the built media server, over a signaling connection opened with a load-test room token. */
export class PlatformSession implements SfuSession {
  readonly #client: TestSignalingClient;
  onConsumer: (offer: ConsumerOffer) => void = () => undefined;

  constructor(client: TestSignalingClient) {
    this.#client = client;
    client.on('consumerCreated', (data) =>
      this.onConsumer({ consumerId: data.consumerId, kind: data.kind, rtpParameters: data.rtpParameters as unknown as types.RtpParameters }),
    );
  }

  get routerRtpCapabilities(): types.RtpCapabilities {
    return this.#client.welcome.routerRtpCapabilities as unknown as types.RtpCapabilities;
  }

  createPlainTransport(direction: 'send' | 'recv'): Promise<PlainTransportOptions> {
    return this.#client.request('createPlainTransport', { direction });
  }

  async connectPlainTransport(request: SignalingRequests['connectPlainTransport']['request']): Promise<void> {
    await this.#client.request('connectPlainTransport', request);
  }

  async join(rtpCapabilities: types.RtpCapabilities): Promise<void> {
    await this.#client.request('join', { rtpCapabilities: rtpCapabilities as unknown as JsonObject });
  }

  async produce(request: { transportId: string; kind: types.MediaKind; source: TrackSource; rtpParameters: types.RtpParameters }): Promise<string> {
    const { producerId } = await this.#client.request('produce', { ...request, rtpParameters: request.rtpParameters as unknown as JsonObject });
    return producerId;
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    await this.#client.request('resumeConsumer', { consumerId });
  }

  async close(): Promise<void> {
    await this.#client.leave();
  }
}

/** The built media server on free loopback ports, bots joining with load-test tokens. */
export class PlatformTarget implements SfuTarget {
  readonly name = 'platform';
  readonly server: MediaServerProcess;

  private constructor(server: MediaServerProcess) {
    this.server = server;
  }

  /** `consumersPerWorker`: the room's budget before it adds a router on another worker (pipeToRouter). */
  static async start(options: {
    workerBin: string;
    numWorkers: number;
    basePort: number;
    consumersPerWorker: number;
    env?: Record<string, string>;
  }): Promise<PlatformTarget> {
    // Rooms here hold up to a few hundred bots; the per-room cap is a product rule, not a limit of the SFU.
    const env = { MAX_PARTICIPANTS_PER_ROOM: '1000', MEDIA_CONSUMERS_PER_WORKER: String(options.consumersPerWorker), ...options.env };
    return new PlatformTarget(await startMediaServer({ ...options, env }));
  }

  async connect(roomId: string, identity: string): Promise<SfuSession> {
    const token = roomToken({ secret: this.server.roomTokenSecret, room: roomId, identity, grants: { loadTest: true } });
    return new PlatformSession(await TestSignalingClient.connect({ url: this.server.wsUrl, token, ...BOT_SIGNALING }));
  }

  workerPids(): number[] {
    const pid = this.server.process.pid;
    return pid ? childPids(pid, 'mediasoup-worker') : [];
  }

  controlPids(): number[] {
    const pid = this.server.process.pid;
    return pid ? [pid] : [];
  }

  close(): Promise<void> {
    return this.server.stop();
  }
}

// --- the bare harness ---------------------------------------------------------------------------

interface BareRoom {
  /** One router, or one per worker for a room spread over all workers by pipeToRouter. */
  routers: types.Router[];
  sessions: BareSession[];
}

/** The least a room needs: consume every other joined session's producers, paused until resumed. */
class BareSession implements SfuSession {
  readonly #room: BareRoom;
  readonly #router: types.Router;
  readonly transports = new Map<string, types.PlainTransport>();
  readonly producers: types.Producer[] = [];
  readonly #consumers = new Map<string, types.Consumer>();
  rtpCapabilities: types.RtpCapabilities | undefined;
  onConsumer: (offer: ConsumerOffer) => void = () => undefined;

  constructor(room: BareRoom) {
    this.#room = room;
    // Spread rooms: participants alternate between the routers.
    this.#router = room.routers[room.sessions.length % room.routers.length] as types.Router;
  }

  get routerRtpCapabilities(): types.RtpCapabilities {
    return this.#router.rtpCapabilities;
  }

  #recv(): types.PlainTransport | undefined {
    return [...this.transports.values()].find((t) => t.appData.direction === 'recv');
  }

  async createPlainTransport(direction: 'send' | 'recv'): Promise<PlainTransportOptions> {
    const transport = await this.#router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, ...PLAIN_SRTP, appData: { direction } });
    this.transports.set(transport.id, transport);
    return {
      id: transport.id,
      ip: transport.tuple.localIp,
      port: transport.tuple.localPort,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: transport.srtpParameters?.keyBase64 ?? '' },
    };
  }

  async connectPlainTransport({ transportId, ip, port, srtpParameters }: SignalingRequests['connectPlainTransport']['request']): Promise<void> {
    await this.transports.get(transportId)?.connect({ ip, port, srtpParameters });
  }

  async consume(producer: types.Producer): Promise<void> {
    const transport = this.#recv();
    if (!transport || !this.rtpCapabilities) return;
    const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: this.rtpCapabilities, paused: true });
    this.#consumers.set(consumer.id, consumer);
    this.onConsumer({ consumerId: consumer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters });
  }

  async join(rtpCapabilities: types.RtpCapabilities): Promise<void> {
    this.rtpCapabilities = rtpCapabilities;
    for (const other of this.#room.sessions) if (other !== this) for (const producer of other.producers) await this.consume(producer);
  }

  async produce({ transportId, kind, rtpParameters }: { transportId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters }): Promise<string> {
    const transport = this.transports.get(transportId);
    if (!transport) throw new Error(`no transport ${transportId}`);
    const producer = await transport.produce({ kind, rtpParameters });
    // Piped producers keep the producer's id: a consumer on any router finds it.
    for (const router of this.#room.routers) if (router !== this.#router) await this.#router.pipeToRouter({ producerId: producer.id, router });
    this.producers.push(producer);
    for (const other of this.#room.sessions) if (other !== this) await other.consume(producer);
    return producer.id;
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    await this.#consumers.get(consumerId)?.resume();
  }

  async close(): Promise<void> {
    for (const transport of this.transports.values()) transport.close();
    this.#room.sessions.splice(this.#room.sessions.indexOf(this), 1);
  }
}

/** Bare mediasoup: one router per room on its own worker(s) in this process. */
export class BareTarget implements SfuTarget {
  readonly name = 'bare';
  readonly workers: types.Worker[];
  readonly #rooms = new Map<string, BareRoom>();
  #next = 0;

  private constructor(workers: types.Worker[]) {
    this.workers = workers;
  }

  static async start(numWorkers: number): Promise<BareTarget> {
    const workers: types.Worker[] = [];
    for (let i = 0; i < numWorkers; i++) workers.push(await mediasoup.createWorker({ logLevel: 'warn' }));
    return new BareTarget(workers);
  }

  /**
   * A router for `roomId` on the next worker in turn (as the platform's least-loaded placement
   * does for equal rooms); with `spread`, one router on every worker, joined by pipeToRouter.
   */
  async room(roomId: string, spread = false): Promise<BareRoom> {
    let room = this.#rooms.get(roomId);
    if (!room) {
      const workers = spread ? this.workers : [this.workers[this.#next++ % this.workers.length] as types.Worker];
      room = { routers: await Promise.all(workers.map((w) => w.createRouter({ mediaCodecs: SFU_CODECS }))), sessions: [] };
      this.#rooms.set(roomId, room);
    }
    return room;
  }

  async connect(roomId: string, _identity?: string, spread = false): Promise<SfuSession> {
    const room = await this.room(roomId, spread);
    const session = new BareSession(room);
    room.sessions.push(session);
    return session;
  }

  /** Closes the routers of rooms nobody is in. */
  closeEmptyRooms(): void {
    for (const [id, room] of this.#rooms) {
      if (room.sessions.length === 0) {
        for (const router of room.routers) router.close();
        this.#rooms.delete(id);
      }
    }
  }

  workerPids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  controlPids(): number[] {
    return [];
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.close();
  }
}

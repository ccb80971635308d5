import type { WebSocket } from 'ws';
import type { types } from 'mediasoup';
import {
  CloseCode,
  MAX_SIGNALING_MESSAGE_BYTES,
  type RoomTokenClaims,
  type ServerMessage,
  type SignalingMethod,
  type SignalingRequests,
} from '@telemed/sdk/protocol';
import { randomUUID } from 'node:crypto';
import { MediaServerError } from '../errors.js';
import { IceRestartWatch } from '../events/IceRestartWatch.js';
import type { Logger } from '../logger.js';
import type { SignalingObserver } from '../metrics/MediaMetrics.js';
import { Peer } from '../Peer.js';
import type { Room } from '../Room.js';
import type { PooledWorker } from '../WorkerPool.js';
import { createLoadTestHandlers } from './load-test.js';
import { isSignalingMethod, requestEnvelope, requestSchemas } from './schemas.js';

type Handlers = {
  [M in SignalingMethod]: (data: SignalingRequests[M]['request']) => Promise<SignalingRequests[M]['response']>;
};

export interface SignalingSessionOptions {
  socket: WebSocket;
  claims: RoomTokenClaims;
  room: Room;
  worker: PooledWorker;
  logger: Logger;
  /** Requests allowed per second before the connection is closed for abuse. */
  maxRequestsPerSecond?: number;
  /** Notifications kept for a detached session (socket lost, may resume); past it the session ends. */
  maxBufferedNotifications?: number;
  /** Told every request's method, outcome and duration (metrics). */
  observer?: Pick<SignalingObserver, 'request'> | undefined;
}

/** ICE restarts asked for this soon after a resume are the resume's own (the SDK restarts ICE when it resumes). */
const RESUME_RESTART_WINDOW_MS = 10_000;

/**
 * One participant's signaling session: validates each request and answers it. The session outlives
 * its socket for a while: a client that lost its socket attaches a new one and resumes (`attach`);
 * notifications sent meanwhile are buffered and delivered on resume.
 */
export class SignalingSession {
  readonly peer: Peer;
  #socket: WebSocket | undefined;
  readonly #room: Room;
  readonly #worker: PooledWorker;
  readonly #logger: Logger;
  readonly #handlers: Handlers;
  readonly #maxRequestsPerSecond: number;
  readonly #maxBuffered: number;
  #buffered: ServerMessage[] = [];
  #windowStart = Date.now();
  #windowCount = 0;
  #resumedAt = 0;
  readonly #iceRestarts: IceRestartWatch;
  readonly #observer: SignalingSessionOptions['observer'];
  /** Called when the session must end because its buffer overflowed while detached. */
  onOverflow: (() => void) | undefined;

  constructor(options: SignalingSessionOptions) {
    this.#socket = options.socket;
    this.#room = options.room;
    this.#worker = options.worker;
    this.#maxRequestsPerSecond = options.maxRequestsPerSecond ?? 50;
    this.#maxBuffered = options.maxBufferedNotifications ?? 2000;
    this.#observer = options.observer;
    const { claims } = options;
    this.peer = new Peer({
      id: randomUUID(),
      identity: claims.sub,
      name: claims.name ?? claims.sub,
      grants: claims.grants,
      notify: (method, data) => this.#send({ type: 'notification', method, data } as ServerMessage),
    });
    this.#logger = options.logger.child({ component: 'SignalingSession', peerId: this.peer.id, identity: claims.sub });
    this.#handlers = this.#createHandlers();
    this.#iceRestarts = new IceRestartWatch({ onRecovered: (r) => this.#room.peerReconnected(this.peer, { how: 'ice', ...r }) });
  }

  /** The socket currently attached; undefined while the client is away. */
  get socket(): WebSocket | undefined {
    return this.#socket;
  }

  /** Sends the welcome and starts answering requests. */
  start(): void {
    if (this.#socket) this.#listen(this.#socket);
    this.#welcome(false);
  }

  /** The client lost its socket: keep the session, buffer notifications. */
  detach(): void {
    this.#socket = undefined;
  }

  /** A resuming client's new socket: the old one (if still open) is dropped, buffered notifications follow the welcome. */
  attach(socket: WebSocket): void {
    const old = this.#socket;
    if (old && old !== socket) {
      old.removeAllListeners('message');
      old.terminate();
    }
    this.#socket = socket;
    this.#resumedAt = Date.now();
    this.#listen(socket);
    this.#welcome(true);
    const buffered = this.#buffered;
    this.#buffered = [];
    for (const message of buffered) this.#send(message);
    this.#logger.info({ delivered: buffered.length }, 'session resumed');
  }

  #listen(socket: WebSocket): void {
    socket.on('message', (raw, isBinary) => {
      if (socket !== this.#socket) return;
      this.#onMessage(raw as Buffer, isBinary).catch((error: unknown) => this.#logger.error({ err: error }, 'signaling message handling failed'));
    });
  }

  #welcome(resumed: boolean): void {
    if (this.#logger.isLevelEnabled('trace')) this.#logger.trace({ join: 'welcome sent', peerId: this.peer.id, at: Date.now() }, 'join trace');
    this.peer.notify('welcome', {
      participantId: this.peer.id,
      identity: this.peer.identity,
      name: this.peer.name,
      roomId: this.#room.id,
      routerRtpCapabilities: this.#room.router.rtpCapabilities as unknown as Record<string, never>,
      grants: this.peer.grants,
      resumeKey: this.peer.resumeKey,
      resumed,
      ...(this.#room.endsAt === undefined ? {} : { endsAt: new Date(this.#room.endsAt).toISOString() }),
    });
  }

  close(code: number, reason: string): void {
    this.#iceRestarts.close();
    const socket = this.#socket;
    if (socket && (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)) {
      socket.close(code, reason);
    }
  }

  /** Drops the socket abruptly, as a network failure would (fault injection). */
  terminateSocket(): void {
    this.#socket?.terminate();
  }

  #send(message: ServerMessage): void {
    const socket = this.#socket;
    if (socket && socket.readyState === socket.OPEN) {
      socket.send(JSON.stringify(message));
      return;
    }
    if (message.type !== 'notification' || this.peer.state === 'closed') return;
    this.#buffered.push(message);
    if (this.#buffered.length > this.#maxBuffered) {
      this.#buffered = [];
      this.onOverflow?.();
    }
  }

  #overRateLimit(): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    return ++this.#windowCount > this.#maxRequestsPerSecond;
  }

  async #onMessage(raw: Buffer, isBinary: boolean): Promise<void> {
    const started = performance.now();
    const [method, outcome] = await this.#answer(raw, isBinary);
    this.#observer?.request(method, outcome, (performance.now() - started) / 1000);
  }

  /** Answers one message; resolves with the method (or what stood for it) and the outcome, for metrics. */
  async #answer(raw: Buffer, isBinary: boolean): Promise<[method: string, outcome: string]> {
    if (this.#overRateLimit()) {
      this.#send({
        type: 'response',
        id: null,
        ok: false,
        error: { code: 'RATE_LIMITED', message: `more than ${this.#maxRequestsPerSecond} requests per second` },
      });
      if (this.#windowCount > this.#maxRequestsPerSecond * 4) this.close(CloseCode.PolicyViolation, 'RATE_LIMITED');
      return ['unparsed', 'RATE_LIMITED'];
    }
    if (isBinary || raw.length > MAX_SIGNALING_MESSAGE_BYTES) {
      this.#send({
        type: 'response',
        id: null,
        ok: false,
        error: { code: 'INVALID_MESSAGE', message: isBinary ? 'binary messages are not accepted' : 'message too large' },
      });
      return ['unparsed', 'INVALID_MESSAGE'];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      this.#send({ type: 'response', id: null, ok: false, error: { code: 'INVALID_MESSAGE', message: 'message is not valid JSON' } });
      return ['unparsed', 'INVALID_MESSAGE'];
    }
    const envelope = requestEnvelope.safeParse(parsed);
    if (!envelope.success) {
      const maybeId = typeof (parsed as { id?: unknown })?.id === 'number' ? (parsed as { id: number }).id : null;
      this.#send({ type: 'response', id: maybeId, ok: false, error: { code: 'INVALID_MESSAGE', message: 'expected { type: "request", id, method, data }' } });
      return ['unparsed', 'INVALID_MESSAGE'];
    }
    const { id, method } = envelope.data;
    if (!isSignalingMethod(method)) {
      this.#send({ type: 'response', id, ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method "${method.slice(0, 64)}"` } });
      return ['unknown', 'UNKNOWN_METHOD'];
    }
    const data = requestSchemas[method].safeParse(envelope.data.data ?? {});
    if (!data.success) {
      const issue = data.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      this.#send({ type: 'response', id, ok: false, error: { code: 'BAD_REQUEST', message: `${method}: ${where}${issue?.message ?? 'invalid data'}` } });
      return [method, 'BAD_REQUEST'];
    }
    try {
      const handler = this.#handlers[method] as (d: unknown) => Promise<unknown>;
      const result = await handler(data.data);
      this.#send({ type: 'response', id, ok: true, data: result } as ServerMessage);
      return [method, 'ok'];
    } catch (error) {
      if (error instanceof MediaServerError) {
        this.#send({ type: 'response', id, ok: false, error: { code: error.code, message: error.message } });
        return [method, error.code];
      } else {
        // mediasoup rejects bad parameters with TypeError/UnsupportedError: the client's fault.
        const clientFault = error instanceof TypeError || (error instanceof Error && error.name === 'UnsupportedError');
        this.#logger.warn({ err: error, method, requestId: id }, 'signaling request failed');
        this.#send({
          type: 'response',
          id,
          ok: false,
          error: clientFault ? { code: 'BAD_REQUEST', message: `${method}: ${(error as Error).message}` } : { code: 'INTERNAL', message: `${method} failed` },
        });
        return [method, clientFault ? 'BAD_REQUEST' : 'INTERNAL'];
      }
    }
  }

  #requireJoined(): void {
    if (!this.peer.joined) throw MediaServerError.invalidState('join the room first');
  }

  #requireSubscriber(): void {
    this.#requireJoined();
    if (!this.peer.grants.canSubscribe) throw MediaServerError.forbidden('this token may not subscribe');
  }

  #requireAdmin(): void {
    if (!this.peer.grants.roomAdmin) throw MediaServerError.forbidden('only a room admin may do this');
  }

  #createHandlers(): Handlers {
    const peer = this.peer;
    const room = this.#room;
    return {
      createTransport: async ({ direction, sctpCapabilities }) => {
        if (peer.state === 'closed') throw MediaServerError.invalidState('session closed');
        if ([...peer.transports.values()].some((t) => t.appData.direction === direction)) {
          throw MediaServerError.invalidState(`a ${direction} transport exists already`);
        }
        if (direction === 'send' && !peer.grants.canPublish && !peer.grants.canPublishData) {
          throw MediaServerError.forbidden('this token may not publish');
        }
        const transport = await room.createTransport(peer, direction, sctpCapabilities !== undefined);
        return {
          id: transport.id,
          iceParameters: transport.iceParameters as unknown as Record<string, never>,
          iceCandidates: transport.iceCandidates as unknown as Record<string, never>[],
          dtlsParameters: transport.dtlsParameters as unknown as Record<string, never>,
          ...(transport.sctpParameters ? { sctpParameters: transport.sctpParameters as unknown as Record<string, never> } : {}),
        };
      },
      connectTransport: async ({ transportId, dtlsParameters }) => {
        await peer.transport(transportId).connect({ dtlsParameters: dtlsParameters as unknown as types.DtlsParameters });
        return {};
      },
      join: async ({ rtpCapabilities, autoSubscribe }) => {
        if (peer.joined) throw MediaServerError.invalidState('joined already');
        const participants = room.visiblePeers(peer).map((p) => p.info());
        await room.join(peer, rtpCapabilities as unknown as types.RtpCapabilities, { autoSubscribe: autoSubscribe ?? true });
        this.#logger.info({ roomId: room.id, participants: participants.length + 1 }, 'participant joined');
        return { participants };
      },
      produce: async ({ transportId, kind, source, rtpParameters, paused }) => {
        this.#requireJoined();
        if (!peer.grants.canPublish) throw MediaServerError.forbidden('this token may not publish');
        const allowed = peer.grants.canPublishSources;
        if (allowed && !allowed.includes(source)) throw MediaServerError.forbidden(`this token may not publish ${source}`);
        const expectedKind = source === 'camera' || source === 'screenShare' ? 'video' : 'audio';
        if (kind !== expectedKind) throw MediaServerError.badRequest(`a ${source} track must be ${expectedKind}`);
        for (const existing of peer.producers.values()) {
          if (existing.appData.source === source) throw MediaServerError.invalidState(`a ${source} track is published already`);
        }
        const producer = await room.produce(peer, {
          transportId,
          kind,
          source,
          rtpParameters: rtpParameters as unknown as types.RtpParameters,
          paused: paused ?? false,
        });
        return { producerId: producer.id };
      },
      closeProducer: async ({ producerId }) => {
        this.#requireJoined();
        peer.producer(producerId).close();
        return {};
      },
      pauseProducer: async ({ producerId }) => {
        this.#requireJoined();
        await room.setProducerPaused(peer, producerId, true);
        return {};
      },
      resumeProducer: async ({ producerId }) => {
        this.#requireJoined();
        await room.setProducerPaused(peer, producerId, false);
        return {};
      },
      subscribe: async ({ producerId }) => {
        this.#requireSubscriber();
        await room.subscribe(peer, producerId);
        return {};
      },
      unsubscribe: async ({ producerId }) => {
        this.#requireSubscriber();
        room.unsubscribe(peer, producerId);
        return {};
      },
      resumeConsumer: async ({ consumerId }) => {
        await room.resumeConsumer(peer, consumerId);
        return {};
      },
      pauseConsumer: async ({ consumerId }) => {
        await room.pauseConsumer(peer, consumerId);
        return {};
      },
      setConsumerPreferredLayers: async ({ consumerId, spatialLayer, temporalLayer }) => {
        const consumer = peer.consumer(consumerId);
        if (consumer.type === 'simulcast' || consumer.type === 'svc') {
          await consumer.setPreferredLayers({ spatialLayer, ...(temporalLayer === undefined ? {} : { temporalLayer }) });
        }
        return {};
      },
      restartIce: async ({ transportId }) => {
        const transport = peer.transport(transportId);
        const iceParameters = await transport.restartIce();
        this.#iceRestarts.restarted(transport, Date.now() - this.#resumedAt < RESUME_RESTART_WINDOW_MS);
        return { iceParameters: iceParameters as unknown as Record<string, never> };
      },
      produceData: async ({ transportId, sctpStreamParameters, label, protocol }) => {
        this.#requireJoined();
        if (!peer.grants.canPublishData) throw MediaServerError.forbidden('this token may not send data');
        if (peer.dataProducers.size >= 4) throw MediaServerError.invalidState('too many data channels');
        const dataProducer = await room.produceData(peer, {
          transportId,
          sctpStreamParameters: sctpStreamParameters as unknown as types.SctpStreamParameters,
          label,
          protocol: protocol ?? '',
        });
        return { dataProducerId: dataProducer.id };
      },
      muteParticipantTrack: async ({ participantId, producerId }) => {
        this.#requireJoined();
        this.#requireAdmin();
        const target = room.peer(participantId);
        await room.setProducerPaused(target, producerId, true);
        target.notify('localTrackMutedByAdmin', { producerId, by: 'roomAdmin', byParticipantId: peer.id });
        this.#logger.info({ target: target.identity, producerId }, 'admin muted a track');
        return {};
      },
      removeParticipant: async ({ participantId }) => {
        this.#requireJoined();
        this.#requireAdmin();
        const target = room.peer(participantId);
        if (target === peer) throw MediaServerError.badRequest('use leave to leave the room');
        this.#logger.info({ target: target.identity }, 'admin removed a participant');
        room.removePeer(target, 'removed');
        return {};
      },
      getStats: async () => room.getStats(),
      reportConnectionQuality: async ({ quality }) => {
        this.#requireJoined();
        room.reportConnectionQuality(peer, quality);
        return {};
      },
      leave: async () => {
        room.removePeer(peer, 'left');
        return {};
      },
      ...createLoadTestHandlers({ peer, room, worker: this.#worker }),
    };
  }
}

import type { Device, types as msTypes } from 'mediasoup-client';
import type { InternalRoomOptions } from '../defaults.js';
import { deviceFor, type DevicePreload } from '../track/device-preload.js';
import { TelemedError } from '../errors.js';
import type { JsonObject, ParticipantInfo, ServerNotifications, TransportOptions } from '../protocol/messages.js';
import { RemoteTrack } from '../track/RemoteTrack.js';
import { readStats } from '../quality/rtc-stats.js';
import type { SignalClient } from '../signaling/SignalClient.js';
import type { IceServer } from '../client/api-types.js';
import { isTrackSource } from '../track/Track.js';
import type { AccessRefresher } from '../signaling/Reconnector.js';

/** How often the first decoded frames are looked for in the receivers' stats. */
const FRAME_POLL_MS = 10;

type Welcome = ServerNotifications['welcome'];

/** How the transports reach the media server besides its own ICE candidates. */
export interface ConnectOptions {
  /** TURN relays with their credentials (`RoomAccess.iceServers`), for both transports. */
  iceServers?: IceServer[];
  /** `relay` sends all media through the TURN relays (no direct path to the server is tried). */
  iceTransportPolicy?: 'all' | 'relay';
  /**
   * Gives a fresh room access when the media node is gone, refused the room (draining) or the token
   * expired; the room then reconnects there by itself, on another node after a failover. Provide it
   * once, e.g. `() => client.callToken(callId)`. Without it the same URL and token are retried.
   */
  refreshAccess?: AccessRefresher;
}

export interface RtcSessionCallbacks {
  /** A transport's ICE/DTLS connection failed or stayed disconnected: restart ICE. */
  onTransportFailure: () => void;
  /** Every transport is connected again after a failure. */
  onTransportsConnected: () => void;
}

/**
 * One joined session's WebRTC side: the mediasoup-client Device, the send and receive transports
 * and the chat data producer. A full rejoin replaces it; a resume keeps it and restarts ICE.
 */
export class RtcSession {
  readonly device: Device;
  #sendTransport: msTypes.Transport | undefined;
  readonly #sendOptions: msTypes.TransportOptions | undefined;
  readonly recvTransport: msTypes.Transport | undefined;
  readonly participantId: string;
  readonly #signal: SignalClient;
  readonly #callbacks: RtcSessionCallbacks;
  #closed = false;
  #disconnectTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    signal: SignalClient,
    welcome: Welcome,
    device: Device,
    send: TransportOptions | undefined,
    recv: TransportOptions | undefined,
    ice: ConnectOptions,
    callbacks: RtcSessionCallbacks,
  ) {
    this.#signal = signal;
    this.#callbacks = callbacks;
    this.device = device;
    this.participantId = welcome.participantId;
    const withIce = (options: TransportOptions): msTypes.TransportOptions => ({
      ...(options as unknown as msTypes.TransportOptions),
      ...(ice.iceServers?.length ? { iceServers: ice.iceServers } : {}),
      ...(ice.iceTransportPolicy ? { iceTransportPolicy: ice.iceTransportPolicy } : {}),
    });
    this.#sendOptions = send && withIce(send);
    if (recv) this.recvTransport = this.#wireCommon(device.createRecvTransport(withIce(recv)));
  }

  /**
   * Loads the device, creates the transports the grants allow and joins; resolves with who is there.
   * The transports are requested before the device loads (loading takes ~15 ms of the page's CPU and
   * they do not depend on it), the receive one first: it is on the way to the first remote frame.
   */
  static async establish(
    signal: SignalClient,
    welcome: Welcome,
    options: InternalRoomOptions,
    ice: ConnectOptions,
    callbacks: RtcSessionCallbacks,
    preload?: DevicePreload,
  ): Promise<{ session: RtcSession; participants: ParticipantInfo[] }> {
    const wantsSend = welcome.grants.canPublish || (welcome.grants.canPublishData && options.enableDataChannel);
    // mediasoup-client 3.24 no longer reports SCTP capabilities; every handler supports these.
    const sctpCapabilities = options.enableDataChannel ? { numStreams: { OS: 1024, MIS: 1024 } } : undefined;
    const recvRequest = welcome.grants.canSubscribe
      ? signal.request('createTransport', { direction: 'recv', ...(sctpCapabilities ? { sctpCapabilities } : {}) })
      : undefined;
    const sendRequest = wantsSend ? signal.request('createTransport', { direction: 'send', ...(sctpCapabilities ? { sctpCapabilities } : {}) }) : undefined;
    const transports = Promise.all([sendRequest, recvRequest]);
    // If the device fails to load, the error below wins; the transports' outcome must not go unhandled.
    transports.catch(() => undefined);
    const device = await deviceFor(welcome.routerRtpCapabilities as unknown as msTypes.RtpCapabilities, preload);
    const [sendOptions, recvOptions] = await transports;
    const joined = signal.request('join', {
      rtpCapabilities: device.rtpCapabilities as unknown as JsonObject,
      ...(sctpCapabilities ? { sctpCapabilities } : {}),
      ...(options.autoSubscribe ? {} : { autoSubscribe: false }),
    });
    joined.catch(() => undefined);
    // The receive transport (a peer connection) is made while the join is on its way; the consumers
    // it creates are handled once it is answered.
    const session = new RtcSession(signal, welcome, device, sendOptions, recvOptions, ice, callbacks);
    try {
      const { participants } = await joined;
      return { session, participants };
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /**
   * The send transport, made on first use (publishing or the chat channel) when the grants allow
   * one: its peer connection costs the page ~5-10 ms, better spent after the first remote media.
   */
  get sendTransport(): msTypes.Transport | undefined {
    if (!this.#sendTransport && this.#sendOptions && !this.#closed) {
      this.#sendTransport = this.#wireSend(this.device.createSendTransport(this.#sendOptions));
    }
    return this.#sendTransport;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** New ICE credentials from the server for each transport (after an ICE failure or a socket resume). */
  async restartIce(): Promise<void> {
    await Promise.all(
      [this.#sendTransport, this.recvTransport].map(async (transport) => {
        if (!transport || transport.closed) return;
        const { iceParameters } = await this.#signal.request('restartIce', { transportId: transport.id });
        await transport.restartIce({ iceParameters: iceParameters as unknown as msTypes.IceParameters });
      }),
    );
  }

  /**
   * Resolves once the receive transport is connected (or failed, or closed) and each of `tracks`
   * has had its first packet (a remote track unmutes then), or after `timeoutMs`: what the first
   * remote media waits for, so other handshakes should not compete with it for the CPU.
   */
  receiving(timeoutMs: number, tracks: MediaStreamTrack[] = []): Promise<void> {
    const transport = this.recvTransport;
    const settled = (): boolean =>
      (!transport || transport.closed || ['connected', 'failed', 'closed'].includes(transport.connectionState)) &&
      tracks.every((track) => !track.muted || track.readyState === 'ended');
    if (settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        transport?.off('connectionstatechange', onChange);
        for (const track of tracks) track.removeEventListener('unmute', onChange);
        resolve();
      };
      const onChange = (): void => {
        if (settled()) done();
      };
      const timer = setTimeout(done, timeoutMs);
      transport?.on('connectionstatechange', onChange);
      for (const track of tracks) track.addEventListener('unmute', onChange);
    });
  }

  /** Consumes a remote track on the receive transport and resumes it at the SFU. */
  async subscribe(data: ServerNotifications['consumerCreated'], adaptiveStream: boolean): Promise<{ consumer: msTypes.Consumer; track: RemoteTrack }> {
    const transport = this.recvTransport;
    if (!transport) throw new TelemedError('INVALID_STATE', 'this session receives no media (canSubscribe)');
    const signal = this.#signal;
    const consumer = await transport.consume({
      id: data.consumerId,
      producerId: data.producerId,
      kind: data.kind,
      rtpParameters: data.rtpParameters as unknown as msTypes.RtpParameters,
    });
    await signal.request('resumeConsumer', { consumerId: consumer.id });
    const consumerId = consumer.id;
    const control =
      adaptiveStream && data.kind === 'video'
        ? {
            pause: () => signal.request('pauseConsumer', { consumerId }).then(() => undefined),
            resume: () => signal.request('resumeConsumer', { consumerId }).then(() => undefined),
            setPreferredLayers: (spatialLayer: number) => signal.request('setConsumerPreferredLayers', { consumerId, spatialLayer }).then(() => undefined),
          }
        : undefined;
    return { consumer, track: new RemoteTrack(consumer, data.source, data.producerPaused, control) };
  }

  /**
   * Resolves once each video consumer has decoded a frame (its inbound-rtp `framesDecoded`), or after
   * `timeoutMs`. A track unmutes on its first packet, before the keyframe is decoded and shown;
   * there is no event for that without a video element, so the stats are polled.
   */
  async framesDecoded(consumers: readonly msTypes.Consumer[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(consumers);
    while (pending.size > 0 && !this.#closed && Date.now() < deadline) {
      for (const consumer of [...pending]) {
        const stats = consumer.closed ? undefined : await readStats(consumer, 'in');
        if (consumer.closed || stats?.rtp.some((s) => (s.framesDecoded ?? 0) > 0)) pending.delete(consumer);
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, FRAME_POLL_MS));
    }
  }

  get transportsConnected(): boolean {
    return [this.#sendTransport, this.recvTransport].every((t) => !t || t.connectionState === 'connected' || t.connectionState === 'new');
  }

  #wireSend(transport: msTypes.Transport): msTypes.Transport {
    this.#wireCommon(transport);
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = (appData as { source?: unknown }).source;
      if (!isTrackSource(source)) {
        errback(new TelemedError('BAD_REQUEST', 'a track needs a source'));
        return;
      }
      this.#signal
        .request('produce', {
          transportId: transport.id,
          kind,
          source,
          rtpParameters: rtpParameters as unknown as JsonObject,
          ...((appData as { paused?: boolean }).paused ? { paused: true } : {}),
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
      this.#signal
        .request('produceData', {
          transportId: transport.id,
          sctpStreamParameters: sctpStreamParameters as unknown as JsonObject,
          label: label ?? '',
          ...(protocol ? { protocol } : {}),
        })
        .then(({ dataProducerId }) => callback({ id: dataProducerId }), errback);
    });
    return transport;
  }

  #wireCommon(transport: msTypes.Transport): msTypes.Transport {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signal
        .request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as unknown as JsonObject })
        .then(() => callback(), errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (this.#closed) return;
      clearTimeout(this.#disconnectTimer);
      if (state === 'failed') this.#callbacks.onTransportFailure();
      // 'disconnected' often recovers by itself within a second or two; restart ICE if it does not.
      else if (state === 'disconnected') this.#disconnectTimer = setTimeout(() => this.#callbacks.onTransportFailure(), 2500);
      else if (state === 'connected' && this.transportsConnected) this.#callbacks.onTransportsConnected();
    });
    return transport;
  }

  /** Closes both transports (and every producer and consumer on them). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#disconnectTimer);
    this.#sendTransport?.close();
    this.recvTransport?.close();
  }
}

import { Device, type types as msTypes } from 'mediasoup-client';
import { assertCallsSupported } from './browser-support.js';
import { roomDefaults, type InternalRoomOptions, type RoomOptions } from './defaults.js';
import { ConnectionError, TelemedError } from './errors.js';
import { LocalParticipant } from './LocalParticipant.js';
import type { NotificationMessage, ParticipantInfo, TransportOptions } from './protocol/messages.js';
import type { RoomGrants } from './protocol/token.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import { RemoteTrack } from './RemoteTrack.js';
import { isNotification, SignalClient } from './SignalClient.js';
import { TypedEmitter } from './TypedEmitter.js';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export type RoomEvents = {
  connectionStateChanged: [ConnectionState];
  participantJoined: [RemoteParticipant];
  participantLeft: [RemoteParticipant];
  trackSubscribed: [RemoteTrack, RemoteParticipant];
  trackUnsubscribed: [RemoteTrack, RemoteParticipant];
  trackMuted: [RemoteTrack, RemoteParticipant];
  trackUnmuted: [RemoteTrack, RemoteParticipant];
  /** The room is no longer connected; `error` is set when it was not the app's own `disconnect()`. */
  disconnected: [ConnectionError | undefined];
};

/** A call: connect with a room token, publish local tracks, receive everyone else's. */
export class Room extends TypedEmitter<RoomEvents> {
  readonly options: InternalRoomOptions;
  readonly remoteParticipants = new Map<string, RemoteParticipant>();
  #state: ConnectionState = 'disconnected';
  #localParticipant: LocalParticipant | undefined;
  #signal: SignalClient | undefined;
  #sendTransport: msTypes.Transport | undefined;
  #recvTransport: msTypes.Transport | undefined;
  #grants: RoomGrants | undefined;
  #roomId: string | undefined;
  /** Notifications that arrive while joining wait until the participant list is known. */
  #held: NotificationMessage[] | undefined;

  constructor(options: RoomOptions = {}) {
    super();
    this.options = { ...roomDefaults, ...options };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get name(): string | undefined {
    return this.#roomId;
  }

  get grants(): RoomGrants | undefined {
    return this.#grants;
  }

  /** Available once connected. */
  get localParticipant(): LocalParticipant {
    if (!this.#localParticipant) throw new TelemedError('INVALID_STATE', 'the room is not connected');
    return this.#localParticipant;
  }

  /** Joins the room at `url` (the media server's `/rtc` WebSocket URL) with a room token. */
  async connect(url: string, token: string): Promise<void> {
    assertCallsSupported();
    if (this.#state !== 'disconnected') throw new TelemedError('INVALID_STATE', `cannot connect while ${this.#state}`);
    this.#setState('connecting');
    const signal = new SignalClient({ timeoutMs: this.options.signalTimeoutMs });
    this.#signal = signal;
    this.#held = [];
    signal.on('notification', (message) => (this.#held ? this.#held.push(message) : this.#onNotification(message)));
    signal.on('close', (error) => this.#teardown(error));
    try {
      const welcome = await signal.connect(url, token);
      this.#grants = welcome.grants;
      this.#roomId = welcome.roomId;
      const device = new Device();
      await device.load({ routerRtpCapabilities: welcome.routerRtpCapabilities as unknown as msTypes.RtpCapabilities });
      const wantsSend = welcome.grants.canPublish || (welcome.grants.canPublishData && this.options.enableDataChannel);
      // mediasoup-client 3.24 no longer reports SCTP capabilities; every handler supports these.
      const sctpCapabilities = this.options.enableDataChannel ? { numStreams: { OS: 1024, MIS: 1024 } } : undefined;
      const [sendOptions, recvOptions] = await Promise.all([
        wantsSend ? signal.request('createTransport', { direction: 'send', ...(sctpCapabilities ? { sctpCapabilities } : {}) }) : undefined,
        welcome.grants.canSubscribe ? signal.request('createTransport', { direction: 'recv', ...(sctpCapabilities ? { sctpCapabilities } : {}) }) : undefined,
      ]);
      if (sendOptions) this.#sendTransport = this.#createSendTransport(device, sendOptions, signal);
      if (recvOptions) this.#recvTransport = this.#createRecvTransport(device, recvOptions, signal);
      const { participants } = await signal.request('join', {
        rtpCapabilities: device.rtpCapabilities as unknown as Record<string, never>,
        ...(sctpCapabilities ? { sctpCapabilities } : {}),
      });
      this.#localParticipant = new LocalParticipant(welcome.participantId, welcome.identity, welcome.name);
      this.#localParticipant.handleConnected({ sendTransport: this.#sendTransport, signal });
      for (const info of participants) this.#addParticipant(info, false);
      const held = this.#held;
      this.#held = undefined;
      for (const message of held) this.#onNotification(message);
      this.#setState('connected');
    } catch (error) {
      this.#teardown(undefined);
      throw error instanceof TelemedError ? error : ConnectionError.network(`could not join the room: ${String(error)}`, error);
    }
  }

  /** Leaves the room and releases every track and transport. */
  async disconnect(): Promise<void> {
    if (this.#state === 'disconnected') return;
    const signal = this.#signal;
    if (signal?.connected) await signal.request('leave', {}).catch(() => undefined);
    this.#teardown(undefined);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('connectionStateChanged', state);
  }

  #createSendTransport(device: Device, options: TransportOptions, signal: SignalClient): msTypes.Transport {
    const transport = device.createSendTransport(options as unknown as msTypes.TransportOptions);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      signal.request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, never> }).then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = (appData as { source?: string }).source;
      if (source !== 'camera' && source !== 'microphone' && source !== 'screenShare' && source !== 'screenShareAudio') {
        errback(new TelemedError('BAD_REQUEST', 'a track needs a source'));
        return;
      }
      signal
        .request('produce', { transportId: transport.id, kind, source, rtpParameters: rtpParameters as unknown as Record<string, never> })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    return transport;
  }

  #createRecvTransport(device: Device, options: TransportOptions, signal: SignalClient): msTypes.Transport {
    const transport = device.createRecvTransport(options as unknown as msTypes.TransportOptions);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      signal.request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, never> }).then(() => callback(), errback);
    });
    return transport;
  }

  #addParticipant(info: ParticipantInfo, announce: boolean): RemoteParticipant {
    const participant = new RemoteParticipant(info);
    this.remoteParticipants.set(info.id, participant);
    participant.on('trackSubscribed', (track) => this.emit('trackSubscribed', track, participant));
    participant.on('trackUnsubscribed', (track) => this.emit('trackUnsubscribed', track, participant));
    participant.on('trackMuted', (track) => this.emit('trackMuted', track, participant));
    participant.on('trackUnmuted', (track) => this.emit('trackUnmuted', track, participant));
    if (announce) this.emit('participantJoined', participant);
    return participant;
  }

  #onNotification(message: NotificationMessage): void {
    if (isNotification(message, 'participantJoined')) {
      if (!this.remoteParticipants.has(message.data.participant.id)) this.#addParticipant(message.data.participant, true);
    } else if (isNotification(message, 'participantLeft')) {
      const participant = this.remoteParticipants.get(message.data.participantId);
      if (!participant) return;
      this.remoteParticipants.delete(participant.sid);
      participant.close();
      this.emit('participantLeft', participant);
    } else if (isNotification(message, 'consumerCreated')) {
      void this.#subscribe(message.data).catch((error: unknown) => console.warn('[telemed] could not subscribe to a track', error));
    } else if (isNotification(message, 'consumerClosed')) {
      for (const participant of this.remoteParticipants.values()) {
        const track = participant.trackByConsumerId(message.data.consumerId);
        if (track) participant.removeTrack(track);
      }
    } else if (isNotification(message, 'consumerPaused') || isNotification(message, 'consumerResumed')) {
      const muted = message.method === 'consumerPaused';
      for (const participant of this.remoteParticipants.values()) {
        participant.trackByConsumerId((message.data as { consumerId: string }).consumerId)?.handleMuted(muted);
      }
    }
  }

  async #subscribe(data: NotificationMessage<'consumerCreated'>['data']): Promise<void> {
    const transport = this.#recvTransport;
    const signal = this.#signal;
    const participant = this.remoteParticipants.get(data.participantId);
    if (!transport || !signal || !participant) return;
    const consumer = await transport.consume({
      id: data.consumerId,
      producerId: data.producerId,
      kind: data.kind,
      rtpParameters: data.rtpParameters as unknown as msTypes.RtpParameters,
    });
    await signal.request('resumeConsumer', { consumerId: consumer.id });
    participant.addTrack(new RemoteTrack(consumer, data.source, data.producerPaused));
  }

  #teardown(error: ConnectionError | undefined): void {
    const wasConnected = this.#state !== 'disconnected';
    this.#signal?.close();
    this.#signal = undefined;
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
    this.#localParticipant?.close();
    for (const participant of this.remoteParticipants.values()) participant.close();
    this.remoteParticipants.clear();
    this.#held = undefined;
    if (wasConnected) {
      this.#setState('disconnected');
      this.emit('disconnected', error);
    }
  }
}

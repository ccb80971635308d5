import type { types as msTypes } from 'mediasoup-client';
import { backoffDelay } from './backoff.js';
import { assertCallsSupported } from './browser-support.js';
import { ChatChannel, type ChatMessage } from './ChatChannel.js';
import type { ConnectionQuality } from './ConnectionQuality.js';
import { roomDefaults, type InternalRoomOptions, type RoomOptions } from './defaults.js';
import { preloadDevice, type DevicePreload } from './device-preload.js';
import { ConnectionError, TelemedError } from './errors.js';
import { LocalParticipant } from './LocalParticipant.js';
import { PreparedConnection, type PrepareConnectionOptions } from './PreparedConnection.js';
import type { Participant } from './Participant.js';
import { CloseCode } from './protocol/errors.js';
import type { NotificationMessage, ParticipantInfo, ServerNotifications } from './protocol/messages.js';
import type { RoomGrants } from './protocol/token.js';
import { QualityMonitor } from './QualityMonitor.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import type { RemoteTrack } from './RemoteTrack.js';
import { RtcSession, type ConnectOptions } from './RtcSession.js';
import { isNotification, SignalClient } from './SignalClient.js';
import type { Track } from './Track.js';
import { TypedEmitter } from './TypedEmitter.js';
import { findVideoCodec } from './video-codecs.js';

/** `connecting → connected → reconnecting → connected | disconnected`. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export type AnyParticipant = LocalParticipant | RemoteParticipant;

export type RoomEvents = {
  connectionStateChanged: [ConnectionState];
  /** Back to `connected` after a loss; `resumed` false means the session was rebuilt (rejoined and republished). */
  reconnected: [{ resumed: boolean; durationMs: number }];
  participantJoined: [RemoteParticipant];
  participantLeft: [RemoteParticipant];
  trackSubscribed: [RemoteTrack, RemoteParticipant];
  trackUnsubscribed: [RemoteTrack, RemoteParticipant];
  trackMuted: [RemoteTrack, RemoteParticipant];
  trackUnmuted: [RemoteTrack, RemoteParticipant];
  /** An in-call chat message from another participant (each message once). */
  chatMessage: [ChatMessage, RemoteParticipant];
  /** The dominant speaker changed. */
  activeSpeakerChanged: [AnyParticipant | undefined];
  /** Audio levels (0..1) of the loudest participants, about once a second; empty when all are silent. */
  audioLevelsChanged: [{ participant: AnyParticipant; level: number }[]];
  connectionQualityChanged: [ConnectionQuality, AnyParticipant];
  /** The room is no longer connected; `error` is set when it was not the app's own `disconnect()`. */
  disconnected: [ConnectionError | undefined];
};

/** How long a join waits for the first remote media's transport to connect before opening chat, ms. */
const FIRST_MEDIA_WAIT_MS = 1000;

/** Close codes after which reconnecting cannot help. */
const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Unauthorized, CloseCode.Refused, CloseCode.Removed, CloseCode.RoomClosed, CloseCode.Replaced, CloseCode.MaxDuration,
]);

function isTerminal(error: unknown): boolean {
  if (!(error instanceof ConnectionError)) return false;
  return error.reason === 'unauthorized' || error.reason === 'refused' || (error.closeCode !== undefined && TERMINAL_CLOSE_CODES.has(error.closeCode));
}

/** A call: connect with a room token, publish local tracks, receive everyone else's. */
export class Room extends TypedEmitter<RoomEvents> {
  readonly options: InternalRoomOptions;
  readonly remoteParticipants = new Map<string, RemoteParticipant>();
  #state: ConnectionState = 'disconnected';
  #leaving = false;
  #localParticipant: LocalParticipant | undefined;
  #signal: SignalClient | undefined;
  #session: RtcSession | undefined;
  #welcome: ServerNotifications['welcome'] | undefined;
  #credentials: { url: string; token: string; ice: ConnectOptions } | undefined;
  #prepared: PreparedConnection | undefined;
  #chat: ChatChannel | undefined;
  #quality: QualityMonitor | undefined;
  #reconnecting = false;
  #iceRestarting = false;
  #iceConnectedWaiter: (() => void) | undefined;
  #activeSpeaker: AnyParticipant | undefined;
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
    return this.#welcome?.roomId;
  }

  get grants(): RoomGrants | undefined {
    return this.#welcome?.grants;
  }

  /** Available once connected. */
  get localParticipant(): LocalParticipant {
    if (!this.#localParticipant) throw new TelemedError('INVALID_STATE', 'the room is not connected');
    return this.#localParticipant;
  }

  /** The current dominant speaker, if anyone has spoken. */
  get activeSpeaker(): AnyParticipant | undefined {
    return this.#activeSpeaker;
  }

  /**
   * Does the part of joining that does not put the user in the room, e.g. from a waiting room while
   * the camera preview runs: opens the authenticated signaling socket (the others are told of the
   * participant only on `connect()`) and loads the Device with the welcome's router capabilities.
   * Never rejects: the promise says whether `connect()` with the same url and token can use it;
   * otherwise `connect()` takes the cold path. A second call replaces the first.
   */
  async prepareConnection(url: string, token: string, options: PrepareConnectionOptions = {}): Promise<boolean> {
    if (this.#state !== 'disconnected') return false;
    try {
      assertCallsSupported();
    } catch {
      return false;
    }
    this.#prepared?.close();
    const prepared = new PreparedConnection(url, token, this.options.signalTimeoutMs, options);
    this.#prepared = prepared;
    return prepared.ready();
  }

  /**
   * Joins the room at `url` (the media server's `/rtc` WebSocket URL) with a room token. `options`
   * carries the TURN relays of the room access (`RoomAccess.iceServers`) for both transports.
   */
  async connect(url: string, token: string, options: ConnectOptions = {}): Promise<void> {
    assertCallsSupported();
    if (this.#state !== 'disconnected') throw new TelemedError('INVALID_STATE', `cannot connect while ${this.#state}`);
    this.#setState('connecting');
    this.#credentials = { url, token, ice: { ...options } };
    const prepared = this.#prepared;
    this.#prepared = undefined;
    const matching = prepared?.url === url && prepared.token === token ? prepared : undefined;
    if (!matching) prepared?.close();
    const adopted = await matching?.adopt();
    // disconnect() may have run while the prepared socket was awaited.
    if ((this.#state as ConnectionState) !== 'connecting') {
      adopted?.signal.close();
      throw new TelemedError('INVALID_STATE', 'disconnected while connecting');
    }
    const signal = adopted?.signal ?? new SignalClient({ timeoutMs: this.options.signalTimeoutMs });
    this.#signal = signal;
    signal.on('notification', (message) => (this.#held ? this.#held.push(message) : this.#onNotification(message)));
    signal.on('close', (error) => this.#onSignalLost(error));
    // The socket first: the Device preload (see device-preload.ts; ~15 ms of the page's CPU) then
    // runs while the socket opens instead of delaying it. A prepared connection has both already.
    const welcomed = adopted?.welcome ? Promise.resolve(adopted.welcome) : signal.connect(url, token);
    const preload = adopted?.preload ?? matching?.devicePreload ?? preloadDevice();
    try {
      const welcome = await welcomed;
      if (adopted) for (const message of adopted.held) this.#onNotification(message);
      await this.#join(welcome, preload);
      this.#quality = new QualityMonitor(this.options.qualityIntervalMs, () => this.#qualityTargets(), (quality, participant) => this.emit('connectionQualityChanged', quality, participant));
      this.#setState('connected');
    } catch (error) {
      this.#teardown(undefined);
      throw error instanceof TelemedError ? error : ConnectionError.network(`could not join the room: ${String(error)}`, error);
    }
  }

  /** Leaves the room and releases every track and transport. */
  async disconnect(): Promise<void> {
    this.#prepared?.close();
    this.#prepared = undefined;
    if (this.#state === 'disconnected') return;
    const signal = this.#signal;
    // The server closes the socket once we have left: that close is not a connection loss.
    this.#leaving = true;
    if (signal?.connected) await signal.request('leave', {}).catch(() => undefined);
    this.#teardown(undefined);
  }

  /** Sends an in-call chat message to every other participant over the room's data channel. */
  async sendChatMessage(text: string): Promise<ChatMessage> {
    const chat = this.#chat;
    const local = this.#localParticipant;
    if (!chat || !local) throw new TelemedError('INVALID_STATE', 'chat needs a connected room with a data channel and the canPublishData grant');
    return chat.send(text, local);
  }

  /** Room admins: mute another participant's track (the server pauses it; its owner is told). */
  async muteParticipantTrack(participant: RemoteParticipant, source: Track.Source): Promise<void> {
    const track = participant.getTrack(source);
    if (!track) throw new TelemedError('NOT_FOUND', `${participant.identity} publishes no ${source} track`);
    await this.#requireSignal().request('muteParticipantTrack', { participantId: participant.sid, producerId: track.sid });
  }

  /** Room admins: remove a participant from the call. */
  async removeParticipant(participant: RemoteParticipant): Promise<void> {
    await this.#requireSignal().request('removeParticipant', { participantId: participant.sid });
  }

  #requireSignal(): SignalClient {
    if (!this.#signal || this.#state === 'disconnected') throw new TelemedError('INVALID_STATE', 'the room is not connected');
    return this.#signal;
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('connectionStateChanged', state);
  }

  /** Builds the WebRTC session for a welcome: transports, join, participants, chat, and republishes local tracks. */
  async #join(welcome: ServerNotifications['welcome'], preload?: DevicePreload): Promise<void> {
    const signal = this.#signal;
    if (!signal) throw new TelemedError('INVALID_STATE', 'no signaling connection');
    this.#held = [];
    this.#welcome = welcome;
    const { session, participants } = await RtcSession.establish(signal, welcome, this.options, this.#credentials?.ice ?? {}, {
      onTransportFailure: () => void this.#restartIce(),
      onTransportsConnected: () => this.#onTransportsConnected(),
    }, preload);
    this.#session = session;
    const local = this.#localParticipant ?? new LocalParticipant(welcome.participantId, welcome.identity, welcome.name);
    this.#localParticipant = local;
    const cameraCodec = findVideoCodec(session.device.rtpCapabilities, this.options.preferredVideoCodec);
    local.handleConnected(welcome.participantId, { get sendTransport() { return session.sendTransport; }, signal, grants: welcome.grants, cameraCodec });
    // Chat is received whenever the data channel is on, even by a participant who may not send.
    if (this.options.enableDataChannel) {
      this.#chat ??= new ChatChannel((message) => {
        const from = this.remoteParticipants.get(message.from);
        if (from) this.emit('chatMessage', message, from);
      });
    }
    for (const info of participants) this.#addParticipant(info, false);
    const held = this.#held;
    this.#held = undefined;
    // Resolves with the consumer of a video that is sent (its first frame is awaited below).
    const subscriptions: Promise<msTypes.Consumer | undefined>[] = [];
    for (const message of held) {
      if (!isNotification(message, 'consumerCreated')) this.#onNotification(message);
      else {
        const { kind, producerPaused } = message.data;
        subscriptions.push(this.#subscribeOrWarn(message.data).then((consumer) => (kind === 'video' && !producerPaused ? consumer : undefined)));
      }
    }
    // The chat channel's handshake (send transport ICE, DTLS, SCTP) would compete with the first
    // remote media's for the CPU (here, decoding and showing the first keyframe, and in the
    // publisher's encoder making it): it starts once the consumers are resumed, the receive
    // transport is connected and the first video frames are decoded (at most FIRST_MEDIA_WAIT_MS).
    if (subscriptions.length > 0) {
      const started = Date.now();
      const videos = (await Promise.all(subscriptions)).filter((consumer) => consumer !== undefined);
      await session.receiving(FIRST_MEDIA_WAIT_MS, videos.map((consumer) => consumer.track));
      await session.framesDecoded(videos, FIRST_MEDIA_WAIT_MS - (Date.now() - started));
    }
    if (this.#chat && welcome.grants.canPublishData && session.sendTransport) await this.#chat.open(session.sendTransport);
    await local.republish();
  }

  #onSignalLost(error: ConnectionError): void {
    if (this.#state === 'disconnected' || this.#state === 'connecting' || this.#leaving) return;
    if (isTerminal(error)) {
      this.#teardown(error);
      return;
    }
    void this.#reconnect(error.closeCode === CloseCode.Rejoin ? 'rejoin' : 'resume', error);
  }

  /**
   * Resume first (new socket for the same server session, then an ICE restart); when the server
   * no longer has the session, rejoin and republish. Bounded, jittered backoff between attempts.
   */
  async #reconnect(mode: 'resume' | 'rejoin', cause: ConnectionError): Promise<void> {
    const signal = this.#signal;
    const credentials = this.#credentials;
    if (this.#reconnecting || !signal || !credentials) return;
    this.#reconnecting = true;
    const started = Date.now();
    this.#setState('reconnecting');
    signal.hold();
    let lastError: unknown = cause;
    for (let attempt = 1; attempt <= this.options.maxReconnectAttempts; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt - 1, this.options.reconnectBaseDelayMs, this.options.reconnectMaxDelayMs)));
      if (this.#state === 'disconnected' || this.#signal !== signal) return;
      try {
        const previous = this.#welcome;
        const resume = mode === 'resume' && previous ? { participantId: previous.participantId, key: previous.resumeKey } : undefined;
        const welcome = await signal.connect(credentials.url, credentials.token, resume);
        if (welcome.resumed && this.#session) {
          this.#welcome = welcome;
          signal.release();
          await this.#session.restartIce();
        } else {
          this.#resetSession();
          await this.#join(welcome);
          signal.release();
        }
        this.#reconnecting = false;
        this.#setState('connected');
        this.emit('reconnected', { resumed: welcome.resumed, durationMs: Date.now() - started });
        return;
      } catch (error) {
        lastError = error;
        if (isTerminal(error)) {
          this.#reconnecting = false;
          this.#teardown(error as ConnectionError);
          return;
        }
        // A failure after the socket opened (e.g. the session died meanwhile): rejoin next time.
        if (signal.connected) mode = 'rejoin';
      }
    }
    this.#reconnecting = false;
    this.#teardown(ConnectionError.reconnectFailed(this.options.maxReconnectAttempts, lastError));
  }

  /**
   * ICE failed while signaling is fine: new ICE credentials, same transports. A restart that has
   * not connected within `iceRestartTimeoutMs` is tried again after a jittered backoff, up to
   * `maxReconnectAttempts` times; then the room gives up (`disconnected`, ConnectionError CONNECTION_FAILED).
   */
  async #restartIce(): Promise<void> {
    const session = this.#session;
    if (this.#state !== 'connected' || this.#reconnecting || this.#iceRestarting || !session) return;
    this.#iceRestarting = true;
    this.#setState('reconnecting');
    const abandoned = (): boolean => !this.#iceRestarting || this.#session !== session || this.#state === 'disconnected' || this.#reconnecting;
    for (let attempt = 1; attempt <= this.options.maxReconnectAttempts; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt - 1, this.options.reconnectBaseDelayMs, this.options.reconnectMaxDelayMs)));
      if (abandoned()) return;
      try {
        await session.restartIce();
      } catch (error) {
        this.#iceRestarting = false;
        if (error instanceof ConnectionError && !this.#reconnecting) void this.#reconnect('resume', error);
        return;
      }
      if (await this.#transportsConnect(session, this.options.iceRestartTimeoutMs)) {
        this.#onTransportsConnected();
        return;
      }
      if (abandoned()) return;
    }
    this.#iceRestarting = false;
    this.#teardown(ConnectionError.reconnectFailed(this.options.maxReconnectAttempts, new Error('ICE did not reconnect after restarts')));
  }

  /** Resolves true once both transports are connected, false after `timeoutMs`. */
  #transportsConnect(session: RtcSession, timeoutMs: number): Promise<boolean> {
    if (session.transportsConnected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#iceConnectedWaiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.#iceConnectedWaiter = () => {
        clearTimeout(timer);
        this.#iceConnectedWaiter = undefined;
        resolve(true);
      };
    });
  }

  #onTransportsConnected(): void {
    this.#iceConnectedWaiter?.();
    if (!this.#iceRestarting) return;
    this.#iceRestarting = false;
    if (!this.#reconnecting && this.#state === 'reconnecting') this.#setState('connected');
  }

  /** Drops the lost session's transports and remote participants; local tracks stay for the republish. */
  #resetSession(): void {
    this.#session?.close();
    this.#session = undefined;
    this.#chat?.close();
    for (const participant of [...this.remoteParticipants.values()]) {
      this.remoteParticipants.delete(participant.sid);
      participant.close();
      this.emit('participantLeft', participant);
    }
    this.#activeSpeaker = undefined;
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

  #participantBySid(sid: string): AnyParticipant | undefined {
    if (this.#localParticipant?.sid === sid) return this.#localParticipant;
    return this.remoteParticipants.get(sid);
  }

  #trackByConsumerId(consumerId: string): RemoteTrack | undefined {
    for (const participant of this.remoteParticipants.values()) {
      const track = participant.trackByConsumerId(consumerId);
      if (track) return track;
    }
    return undefined;
  }

  #onNotification(message: NotificationMessage): void {
    if (isNotification(message, 'participantJoined')) {
      if (!this.remoteParticipants.has(message.data.participant.id)) this.#addParticipant(message.data.participant, true);
    } else if (isNotification(message, 'participantLeft')) {
      const participant = this.remoteParticipants.get(message.data.participantId);
      if (!participant) return;
      this.remoteParticipants.delete(participant.sid);
      participant.close();
      if (this.#activeSpeaker === participant) this.#activeSpeaker = undefined;
      this.emit('participantLeft', participant);
    } else if (isNotification(message, 'consumerCreated')) {
      void this.#subscribeOrWarn(message.data);
    } else if (isNotification(message, 'consumerClosed')) {
      for (const participant of this.remoteParticipants.values()) {
        const track = participant.trackByConsumerId(message.data.consumerId);
        if (track) participant.removeTrack(track);
      }
    } else if (isNotification(message, 'consumerPaused') || isNotification(message, 'consumerResumed')) {
      this.#trackByConsumerId((message.data as { consumerId: string }).consumerId)?.handleMuted(message.method === 'consumerPaused');
    } else if (isNotification(message, 'consumerLayersChanged')) {
      this.#trackByConsumerId(message.data.consumerId)?.handleLayersChanged(message.data.layers);
    } else if (isNotification(message, 'consumerScore')) {
      this.#trackByConsumerId(message.data.consumerId)?.handleScore(message.data);
    } else if (isNotification(message, 'producerScore')) {
      this.#quality?.handleProducerScore(message.data.producerId, message.data.score);
    } else if (isNotification(message, 'localTrackMutedByAdmin')) {
      this.#localParticipant?.handleMutedByAdmin(message.data.producerId);
    } else if (isNotification(message, 'dataConsumerCreated')) {
      const transport = this.#session?.recvTransport;
      const participantId = message.data.participantId;
      if (transport && this.#chat) {
        void this.#chat.consume(transport, message.data, () => this.remoteParticipants.get(participantId))
          .catch((error: unknown) => console.warn('[telemed] could not open a chat channel', error));
      }
    } else if (isNotification(message, 'activeSpeaker')) {
      const speaker = this.#participantBySid(message.data.participantId);
      this.#activeSpeaker?.setSpeaking(false);
      speaker?.setSpeaking(true);
      this.#activeSpeaker = speaker;
      this.emit('activeSpeakerChanged', speaker);
    } else if (isNotification(message, 'audioLevels')) {
      const levels: { participant: AnyParticipant; level: number }[] = [];
      for (const participant of [this.#localParticipant, ...this.remoteParticipants.values()]) participant?.setAudioLevel(0);
      for (const { participantId, volume } of message.data.levels) {
        const participant = this.#participantBySid(participantId);
        if (!participant) continue;
        const level = Math.min(1, 10 ** (volume / 20));
        participant.setAudioLevel(level);
        levels.push({ participant, level });
      }
      this.emit('audioLevelsChanged', levels);
    }
  }

  #subscribeOrWarn(data: NotificationMessage<'consumerCreated'>['data']): Promise<msTypes.Consumer | undefined> {
    return this.#subscribe(data).catch((error: unknown) => {
      console.warn('[telemed] could not subscribe to a track', error);
      return undefined;
    });
  }

  async #subscribe(data: NotificationMessage<'consumerCreated'>['data']): Promise<msTypes.Consumer | undefined> {
    const session = this.#session;
    const participant = this.remoteParticipants.get(data.participantId);
    if (!session?.recvTransport || !participant) return undefined;
    const { consumer, track } = await session.subscribe(data, this.options.adaptiveStream);
    participant.addTrack(track);
    return consumer;
  }

  #qualityTargets(): { local: LocalParticipant | undefined; remotes: RemoteParticipant[] } {
    return { local: this.#state === 'connected' ? this.#localParticipant : undefined, remotes: [...this.remoteParticipants.values()] };
  }

  #teardown(error: ConnectionError | undefined): void {
    const wasConnected = this.#state !== 'disconnected';
    this.#leaving = false;
    this.#state = 'disconnected';
    this.#quality?.close();
    this.#quality = undefined;
    this.#signal?.close();
    this.#signal = undefined;
    this.#chat?.close();
    this.#chat = undefined;
    this.#session?.close();
    this.#session = undefined;
    this.#localParticipant?.close();
    this.#localParticipant = undefined;
    for (const participant of this.remoteParticipants.values()) participant.close();
    this.remoteParticipants.clear();
    this.#held = undefined;
    this.#activeSpeaker = undefined;
    if (wasConnected) {
      this.emit('connectionStateChanged', 'disconnected');
      this.emit('disconnected', error);
    }
  }
}

export type { Participant };

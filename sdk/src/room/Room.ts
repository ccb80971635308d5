import type { types as msTypes } from 'mediasoup-client';
import { assertCallsSupported } from '../browser-support.js';
import { ChatChannel, type ChatMessage } from './ChatChannel.js';
import type { ConnectionQuality } from '../quality/ConnectionQuality.js';
import { joinWithRetry } from '../signaling/join-retry.js';
import { roomDefaults, type InternalRoomOptions, type RoomOptions } from '../defaults.js';
import { preloadDevice, type DevicePreload } from '../track/device-preload.js';
import { ConnectionError, TelemedError } from '../errors.js';
import { LocalParticipant } from '../participant/LocalParticipant.js';
import { PreparedConnection, type PrepareConnectionOptions } from './PreparedConnection.js';
import type { Participant } from '../participant/Participant.js';
import type { NotificationMessage, ParticipantInfo, ServerNotifications } from '../protocol/messages.js';
import type { RoomGrants } from '../protocol/token.js';
import { QualityMonitor } from '../quality/QualityMonitor.js';
import { DefaultReconnectPolicy } from '../signaling/ReconnectPolicy.js';
import { Reconnector } from '../signaling/Reconnector.js';
import { RemoteParticipant, type ParticipantLeftReason } from '../participant/RemoteParticipant.js';
import type { RemoteTrack } from '../track/RemoteTrack.js';
import type { RemoteTrackPublication } from '../track/RemoteTrackPublication.js';
import { RtcSession, type ConnectOptions } from './RtcSession.js';
import { dispatchNotification, isNotification, SignalClient, type NotificationHandlers } from '../signaling/SignalClient.js';
import { Subscriptions } from './Subscriptions.js';
import type { Track } from '../track/Track.js';
import { TypedEmitter } from '../TypedEmitter.js';
import { findVideoCodec } from '../track/video-codecs.js';

/** `connecting → connected → reconnecting → connected | disconnected`. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export type AnyParticipant = LocalParticipant | RemoteParticipant;

export type RoomEvents = {
  connectionStateChanged: [ConnectionState];
  /** Back to `connected` after a loss; `resumed` false means the session was rebuilt (rejoined and republished). */
  reconnected: [{ resumed: boolean; durationMs: number }];
  /** While reconnecting, `ConnectOptions.refreshAccess` named another media node (failover): the session is rebuilt there. */
  mediaNodeChanged: [{ url: string }];
  participantJoined: [RemoteParticipant];
  /** A remote participant left; see {@link ParticipantLeftReason}. */
  participantLeft: [RemoteParticipant, ParticipantLeftReason];
  /** A remote participant published a track after it was announced (subscribe with `publication.setSubscribed(true)`). */
  trackPublished: [RemoteTrackPublication, RemoteParticipant];
  trackUnpublished: [RemoteTrackPublication, RemoteParticipant];
  trackSubscribed: [RemoteTrack, RemoteParticipant];
  trackUnsubscribed: [RemoteTrack, RemoteParticipant];
  /** A subscribed track's publisher muted it (the server paused its producer); see also `trackPublications`. */
  trackMuted: [RemoteTrack, RemoteParticipant];
  trackUnmuted: [RemoteTrack, RemoteParticipant];
  /** An in-call chat message from another participant (each message once). */
  chatMessage: [ChatMessage, RemoteParticipant];
  /** The dominant speaker changed. */
  activeSpeakerChanged: [AnyParticipant | undefined];
  /** Audio levels (0..1) of the loudest participants, about once a second; empty when all are silent. */
  audioLevelsChanged: [{ participant: AnyParticipant; level: number }[]];
  connectionQualityChanged: [ConnectionQuality, AnyParticipant];
  /**
   * The call reaches the installation's maximum duration soon (at each of the media server's
   * warning times, and on joining after the first): at `endsAt` the room disconnects with
   * `MAX_DURATION`. See also {@link Room.endsAt}.
   */
  callEndingSoon: [{ endsAt: Date; secondsLeft: number }];
  /** The room is no longer connected; `error` is set when it was not the app's own `disconnect()`. */
  disconnected: [ConnectionError | undefined];
};

/** How long a join waits for the first remote media's transport to connect before opening chat, ms. */
const FIRST_MEDIA_WAIT_MS = 1000;

/** A call: connect with a room token, publish local tracks, receive everyone else's. */
export class Room extends TypedEmitter<RoomEvents> {
  readonly options: InternalRoomOptions;
  readonly remoteParticipants = new Map<string, RemoteParticipant>();
  #state: ConnectionState = 'disconnected';
  #leaving = false;
  /** Identity and sid come with the first welcome; the same object across connects. */
  readonly #localParticipant = new LocalParticipant('', '', '');
  #removePageHideListener: (() => void) | undefined;
  #signal: SignalClient | undefined;
  #session: RtcSession | undefined;
  #welcome: ServerNotifications['welcome'] | undefined;
  /** ICE servers and policy given to connect(): kept for the transports a rejoin rebuilds. */
  #connectOptions: ConnectOptions = {};
  #prepared: PreparedConnection | undefined;
  #chat: ChatChannel | undefined;
  #quality: QualityMonitor | undefined;
  #reconnector: Reconnector | undefined;
  #activeSpeaker: AnyParticipant | undefined;
  /** Notifications that arrive while joining wait until the participant list is known. */
  #held: NotificationMessage[] | undefined;
  readonly #subscriptions: Subscriptions;

  constructor(options: RoomOptions = {}) {
    super();
    this.options = { ...roomDefaults, ...options };
    this.#subscriptions = new Subscriptions({
      autoSubscribe: this.options.autoSubscribe,
      timeoutMs: this.options.signalTimeoutMs,
      send: (method, producerId) =>
        this.#requireSignal()
          .request(method, { producerId })
          .then(() => undefined),
    });
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

  /**
   * This device's user: there from construction, so an app can attach listeners before `connect()`;
   * `identity`, `name` and `sid` are filled in by the join, and publishing needs a connected room.
   */
  get localParticipant(): LocalParticipant {
    return this.#localParticipant;
  }

  /** When the media server ends this call (its maximum duration), known once connected; undefined when calls have no limit. */
  get endsAt(): Date | undefined {
    return this.#welcome?.endsAt === undefined ? undefined : new Date(this.#welcome.endsAt);
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
    this.#leaveOnPageHide();
    this.#connectOptions = { ...options };
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
    this.#reconnector = this.#createReconnector(signal, url, token);
    signal.on('close', (error) => {
      if ((this.#state === 'connected' || this.#state === 'reconnecting') && !this.#leaving) this.#reconnector?.handleSignalLost(error);
    });
    // The socket first: the Device preload (see device-preload.ts; ~15 ms of the page's CPU) then
    // runs while the socket opens instead of delaying it. A prepared connection has both already.
    const welcomed = adopted?.welcome ? Promise.resolve(adopted.welcome) : signal.connect(url, token);
    const preload = adopted?.preload ?? matching?.devicePreload ?? preloadDevice();
    try {
      // A join that timed out (no welcome, or a join request unanswered) is tried again on a new
      // socket: the server replaces the half-joined session of the same token.
      await joinWithRetry(
        async (attempt) => {
          const welcome = await (attempt === 1 ? welcomed : signal.connect(url, token));
          if (adopted && attempt === 1) for (const message of adopted.held) this.#onNotification(message);
          await this.#join(welcome, preload);
        },
        {
          attempts: this.options.joinAttempts,
          baseDelayMs: this.options.reconnectBaseDelayMs,
          maxDelayMs: this.options.reconnectMaxDelayMs,
          reset: () => {
            this.#resetSession();
            this.#held = undefined;
          },
          stillWanted: () => this.#state === 'connecting' && this.#signal === signal,
        },
      );
      this.#quality = new QualityMonitor(
        this.options.qualityIntervalMs,
        () => this.#qualityTargets(),
        (quality, participant) => {
          // Our own grade goes to the others: only we see our uplink's losses that the SFU's NACKs repaired.
          if (participant === this.#localParticipant) this.#signal?.request('reportConnectionQuality', { quality }).catch(() => undefined);
          this.emit('connectionQualityChanged', quality, participant);
        },
      );
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
    if (!chat) throw new TelemedError('INVALID_STATE', 'chat needs a connected room with a data channel and the canPublishData grant');
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

  /** A closed or navigated-away tab leaves at once instead of after the server's liveness timeout. */
  #leaveOnPageHide(): void {
    if (!this.options.leaveOnPageHide || typeof window === 'undefined' || this.#removePageHideListener) return;
    // Synchronous: the page may be gone before a promise continues. The leave request goes out
    // ahead of the socket's close frame, so the server ends the session at once.
    const onPageHide = (): void => {
      this.#prepared?.close();
      this.#prepared = undefined;
      if (this.#state === 'disconnected') return;
      if (this.#signal?.connected) this.#signal.request('leave', {}).catch(() => undefined);
      this.#leaving = true;
      this.#teardown(undefined);
    };
    window.addEventListener('pagehide', onPageHide);
    this.#removePageHideListener = () => window.removeEventListener('pagehide', onPageHide);
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
    const { session, participants } = await RtcSession.establish(
      signal,
      welcome,
      this.options,
      this.#connectOptions,
      {
        onTransportFailure: () => {
          if (this.#state === 'connected') this.#reconnector?.handleTransportFailure();
        },
        onTransportsConnected: () => this.#reconnector?.handleTransportsConnected(),
      },
      preload,
    );
    this.#session = session;
    const local = this.#localParticipant;
    const cameraCodec = findVideoCodec(session.device.rtpCapabilities, this.options.preferredVideoCodec);
    local.handleConnected(welcome.participantId, welcome.identity, welcome.name, {
      get sendTransport() {
        return session.sendTransport;
      },
      signal,
      grants: welcome.grants,
      cameraCodec,
    });
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
      await session.receiving(
        FIRST_MEDIA_WAIT_MS,
        videos.map((consumer) => consumer.track),
      );
      await session.framesDecoded(videos, FIRST_MEDIA_WAIT_MS - (Date.now() - started));
    }
    if (this.#chat && welcome.grants.canPublishData && session.sendTransport) await this.#chat.open(session.sendTransport);
    else this.#chat?.refuseSending();
    await local.republish();
  }

  /** Reconnection (see Reconnector) for this signaling client; the room adopts its outcomes. */
  #createReconnector(signal: SignalClient, url: string, token: string): Reconnector {
    const { reconnectPolicy, maxReconnectAttempts, reconnectBaseDelayMs, reconnectMaxDelayMs, iceRestartTimeoutMs } = this.options;
    const policy =
      reconnectPolicy ?? new DefaultReconnectPolicy({ maxAttempts: maxReconnectAttempts, baseDelayMs: reconnectBaseDelayMs, maxDelayMs: reconnectMaxDelayMs });
    const reconnector = new Reconnector({
      signal,
      url,
      token,
      policy,
      iceRestartTimeoutMs,
      refreshAccess: this.#connectOptions.refreshAccess,
      adoptAccess: (access) => {
        if (access.iceServers) this.#connectOptions = { ...this.#connectOptions, iceServers: access.iceServers };
      },
      session: () => this.#session,
      resumeCredentials: () => (this.#welcome ? { participantId: this.#welcome.participantId, key: this.#welcome.resumeKey } : undefined),
      adoptResumed: (welcome) => {
        this.#welcome = welcome;
      },
      rejoin: async (welcome) => {
        this.#resetSession();
        await this.#join(welcome);
      },
    });
    reconnector.on('reconnecting', () => this.#setState('reconnecting'));
    reconnector.on('moved', (info) => this.emit('mediaNodeChanged', info));
    reconnector.on('reconnected', (info) => {
      this.#setState('connected');
      this.emit('reconnected', info);
    });
    reconnector.on('iceRestored', () => {
      if (this.#state === 'reconnecting') this.#setState('connected');
    });
    reconnector.on('failed', (error) => this.#teardown(error));
    return reconnector;
  }

  /** Drops the lost session's transports and remote participants; local tracks stay for the republish. */
  #resetSession(): void {
    this.#session?.close();
    this.#session = undefined;
    this.#chat?.suspend();
    this.#subscriptions.handleSessionLost(this.remoteParticipants.values());
    for (const participant of [...this.remoteParticipants.values()]) this.#removeParticipant(participant.sid, 'roomRejoined');
    this.#activeSpeaker = undefined;
  }

  #removeParticipant(sid: string, reason: ParticipantLeftReason): void {
    const participant = this.remoteParticipants.get(sid);
    if (!participant) return;
    this.remoteParticipants.delete(sid);
    participant.close(reason);
    if (this.#activeSpeaker === participant) this.#activeSpeaker = undefined;
    this.emit('participantLeft', participant, reason);
  }

  #addParticipant(info: ParticipantInfo, announce: boolean): RemoteParticipant {
    const participant: RemoteParticipant = new RemoteParticipant(info, (publication, subscribed) =>
      this.#subscriptions.set(participant, publication, subscribed),
    );
    this.remoteParticipants.set(info.id, participant);
    participant.on('trackPublished', (publication) => {
      this.emit('trackPublished', publication, participant);
      this.#subscriptions.handlePublication(participant, publication);
    });
    participant.on('trackUnpublished', (publication) => this.emit('trackUnpublished', publication, participant));
    participant.on('trackSubscribed', (track) => this.emit('trackSubscribed', track, participant));
    participant.on('trackUnsubscribed', (track) => this.emit('trackUnsubscribed', track, participant));
    participant.on('trackMuted', (track) => this.emit('trackMuted', track, participant));
    participant.on('trackUnmuted', (track) => this.emit('trackUnmuted', track, participant));
    if (announce) this.emit('participantJoined', participant);
    for (const publication of participant.trackPublications) this.#subscriptions.handlePublication(participant, publication);
    return participant;
  }

  #participantBySid(sid: string): AnyParticipant | undefined {
    if (this.#localParticipant.sid === sid) return this.#localParticipant;
    return this.remoteParticipants.get(sid);
  }

  /** The participant and track of one of our consumers. */
  #consumer(consumerId: string): { participant: RemoteParticipant; track: RemoteTrack } | undefined {
    for (const participant of this.remoteParticipants.values()) {
      const track = participant.trackByConsumerId(consumerId);
      if (track) return { participant, track };
    }
    return undefined;
  }

  #onNotification(message: NotificationMessage): void {
    dispatchNotification(this.#handlers, message);
  }

  readonly #handlers: NotificationHandlers = {
    // The socket's first welcome resolves SignalClient.connect(); no other is sent.
    welcome: () => undefined,
    participantJoined: ({ participant }) => {
      if (!this.remoteParticipants.has(participant.id)) this.#addParticipant(participant, true);
    },
    participantLeft: ({ participantId, reason }) => this.#removeParticipant(participantId, reason),
    trackPublished: ({ participantId, track }) => void this.remoteParticipants.get(participantId)?.handleTrackPublished(track),
    trackUnpublished: ({ participantId, producerId }) => this.remoteParticipants.get(participantId)?.handleTrackUnpublished(producerId),
    consumerCreated: (data) => void this.#subscribeOrWarn(data),
    consumerClosed: ({ consumerId }) => {
      const found = this.#consumer(consumerId);
      found?.participant.removeTrack(found.track);
    },
    // The consumer's view of a publisher's mute; trackMuted below is the participant's (both arrive).
    consumerPaused: ({ consumerId }) => this.#consumerMuted(consumerId, true),
    consumerResumed: ({ consumerId }) => this.#consumerMuted(consumerId, false),
    trackMuted: ({ participantId, producerId }) => this.remoteParticipants.get(participantId)?.handleTrackMuted(producerId, true),
    trackUnmuted: ({ participantId, producerId }) => this.remoteParticipants.get(participantId)?.handleTrackMuted(producerId, false),
    consumerLayersChanged: ({ consumerId, layers }) => this.#consumer(consumerId)?.track.handleLayersChanged(layers),
    consumerScore: (data) => this.#consumer(data.consumerId)?.track.handleScore(data),
    producerScore: ({ producerId, score }) => this.#quality?.handleProducerScore(producerId, score),
    participantQuality: ({ participantId, quality }) => this.remoteParticipants.get(participantId)?.handleReportedQuality(quality),
    localTrackMutedByAdmin: ({ producerId, by }) => this.#localParticipant.handleMutedByAdmin(producerId, by),
    dataConsumerCreated: (data) => {
      const transport = this.#session?.recvTransport;
      if (!transport || !this.#chat) return;
      void this.#chat
        .consume(transport, data, () => this.remoteParticipants.get(data.participantId))
        .catch((error: unknown) => console.warn('[telemed] could not open a chat channel', error));
    },
    callEndingSoon: ({ endsAt, secondsLeft }) => this.emit('callEndingSoon', { endsAt: new Date(endsAt), secondsLeft }),
    activeSpeaker: ({ participantId }) => {
      const speaker = this.#participantBySid(participantId);
      this.#activeSpeaker?.setSpeaking(false);
      speaker?.setSpeaking(true);
      this.#activeSpeaker = speaker;
      this.emit('activeSpeakerChanged', speaker);
    },
    audioLevels: ({ levels: volumes }) => {
      const levels: { participant: AnyParticipant; level: number }[] = [];
      for (const participant of [this.#localParticipant, ...this.remoteParticipants.values()]) participant?.setAudioLevel(0);
      for (const { participantId, volume } of volumes) {
        const participant = this.#participantBySid(participantId);
        if (!participant) continue;
        const level = Math.min(1, 10 ** (volume / 20));
        participant.setAudioLevel(level);
        levels.push({ participant, level });
      }
      this.emit('audioLevelsChanged', levels);
    },
  };

  #consumerMuted(consumerId: string, muted: boolean): void {
    const found = this.#consumer(consumerId);
    found?.participant.handleTrackMuted(found.track.sid, muted);
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
    this.#reconnector?.close();
    this.#reconnector = undefined;
    this.#signal?.close();
    this.#signal = undefined;
    this.#chat?.close();
    this.#chat = undefined;
    this.#session?.close();
    this.#session = undefined;
    this.#localParticipant.close();
    this.#removePageHideListener?.();
    this.#removePageHideListener = undefined;
    for (const participant of this.remoteParticipants.values()) participant.close();
    this.remoteParticipants.clear();
    this.#held = undefined;
    this.#activeSpeaker = undefined;
    this.#subscriptions.close();
    if (wasConnected) {
      this.emit('connectionStateChanged', 'disconnected');
      this.emit('disconnected', error);
    }
  }
}

export type { Participant };

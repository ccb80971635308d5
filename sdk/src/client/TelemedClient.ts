import { backoffDelay, sleep } from '../signaling/backoff.js';
import { TypedEmitter } from '../TypedEmitter.js';
import { ApiRequestError } from './ApiRequestError.js';
import { requestFailure } from './request-failure.js';
import { TelemedError } from '../errors.js';
import type {
  CallRecording,
  ApiErrorBody,
  Attachment,
  Call,
  CallHistoryFilter,
  CallTimelineEntry,
  CallType,
  Conversation,
  Message,
  Page,
  Presence,
  QualitySample,
  Receipt,
  RoomAccess,
  ScheduleCallInput,
  Session,
  User,
} from './api-types.js';
import { EventsConnection } from './EventsConnection.js';
import type { AppEventMap, AppEventType, DeliveredAppEvent } from './events.js';
import type { ClientTrackStatsSample } from '../protocol/media-events.js';

export interface TelemedClientOptions {
  /** The API's origin, e.g. `https://api.clinic.example` (defaults to the page's origin). */
  baseUrl: string;
  /** A session saved earlier (see the `sessionChanged` event). */
  session: Session | null;
  fetch: typeof fetch;
  /** The WebSocket class; the browser's by default (pass `ws` in Node). */
  WebSocket: typeof WebSocket | undefined;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  /** `/events`: silence after which the link counts as dead and is replaced (default: 2.5 server heartbeats). */
  eventsHeartbeatTimeoutMs: number | undefined;
}

/** Realtime events by name (payload and the delivered envelope), plus the client's own. */
export type TelemedClientEvents = { [K in AppEventType]: [AppEventMap[K], DeliveredAppEvent] } & {
  /** Tokens changed (login, refresh, logout): persist the session if the app wants to resume it. */
  sessionChanged: [Session | null];
  eventsConnected: [{ cursor: number; truncated: boolean }];
  eventsDisconnected: [{ code: number; willReconnect: boolean }];
};

const globalOrigin = (): string => (typeof location === 'undefined' ? 'http://127.0.0.1:3000' : location.origin);

/**
 * The typed REST and realtime client for the Telemed API. Auth is a bearer token in memory (no
 * cookies); an expired access token is refreshed once, transparently, and the refresh token rotates.
 */
export class TelemedClient extends TypedEmitter<TelemedClientEvents> {
  readonly #options: TelemedClientOptions;
  #session: Session | null;
  #refreshing: Promise<Session> | undefined;
  #events: EventsConnection | undefined;
  /** Authenticated requests waiting for their response: cancelled when the session ends. */
  readonly #inFlight = new Set<AbortController>();

  constructor(options: Partial<TelemedClientOptions> = {}) {
    super();
    this.#options = {
      baseUrl: options.baseUrl ?? globalOrigin(),
      session: options.session ?? null,
      fetch: options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args)),
      WebSocket: options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket,
      reconnectInitialDelayMs: options.reconnectInitialDelayMs ?? 500,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 15_000,
      eventsHeartbeatTimeoutMs: options.eventsHeartbeatTimeoutMs,
    };
    this.#session = this.#options.session;
  }

  get session(): Session | null {
    return this.#session;
  }

  get user(): User | null {
    return this.#session?.user ?? null;
  }

  // --- auth -------------------------------------------------------------------------------

  async login(email: string, password: string): Promise<Session> {
    const session = await this.#request<Session>('POST', '/api/auth/login', { email, password }, { auth: false });
    this.#setSession(session);
    return session;
  }

  /** Rotates the refresh token (one refresh at a time, shared by concurrent callers). */
  refresh(): Promise<Session> {
    const refreshToken = this.#session?.refreshToken;
    if (!refreshToken) return Promise.reject(new ApiRequestError('UNAUTHORIZED', 401, 'not logged in'));
    this.#refreshing ??= this.#request<Session>('POST', '/api/auth/refresh', { refreshToken }, { auth: false })
      .then((session) => {
        this.#setSession(session);
        return session;
      })
      .catch((error: unknown) => {
        if (error instanceof ApiRequestError && error.status === 401) this.#setSession(null);
        throw error;
      })
      .finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async logout(): Promise<void> {
    const refreshToken = this.#session?.refreshToken;
    this.disconnectEvents();
    this.#setSession(null);
    if (refreshToken) await this.#request<void>('POST', '/api/auth/logout', { refreshToken }, { auth: false });
  }

  me(): Promise<User> {
    return this.#request('GET', '/api/users/me');
  }

  async contacts(): Promise<User[]> {
    return (await this.#request<{ items: User[] }>('GET', '/api/users/contacts')).items;
  }

  // --- calls ------------------------------------------------------------------------------

  /**
   * Rings the invitees. `conversationId` keeps the call's chat in a conversation of the caller whose
   * members are exactly the call's participants (e.g. the direct one with the one invitee); any
   * other is refused (403). Without it the call gets a conversation of its own (`call.conversationId`).
   */
  startCall(input: { type: CallType; inviteeIds: string[]; conversationId?: string }): Promise<Call> {
    return this.#request('POST', '/api/calls', input);
  }

  acceptCall(callId: string): Promise<{ call: Call; access: RoomAccess }> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/accept`, {});
  }

  /**
   * Joins a running call. A patient asking to join waits in the lobby: `access` is null until a
   * doctor in the call admits them (a `call.accepted` event for them; then call `callToken`).
   */
  joinCall(callId: string): Promise<{ call: Call; access: RoomAccess | null }> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/join`, {});
  }

  /** A doctor in the call lets a waiting participant in. */
  admitToCall(callId: string, userId: string): Promise<Call> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/participants/${encodeURIComponent(userId)}/admit`, {});
  }

  /** A doctor in the call turns a waiting participant away. */
  denyAdmission(callId: string, userId: string): Promise<Call> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/participants/${encodeURIComponent(userId)}/deny`, {});
  }

  declineCall(callId: string): Promise<Call> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/decline`, {});
  }

  cancelCall(callId: string): Promise<Call> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/cancel`, {});
  }

  leaveCall(callId: string): Promise<Call> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/leave`, {});
  }

  endCall(callId: string): Promise<Call> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/end`, {});
  }

  /** A fresh room token for the media server (for `Room.connect`). */
  callToken(callId: string): Promise<RoomAccess> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/token`, {});
  }

  /** What happened in a call, in order (its participants and admins). */
  async callTimeline(callId: string): Promise<CallTimelineEntry[]> {
    return (await this.#request<{ items: CallTimelineEntry[] }>('GET', `/api/calls/${encodeURIComponent(callId)}/timeline`)).items;
  }

  getCall(callId: string): Promise<Call> {
    return this.#request('GET', `/api/calls/${encodeURIComponent(callId)}`);
  }

  listCalls(filter: CallHistoryFilter = {}): Promise<Page<Call>> {
    return this.#request('GET', `/api/calls${query(filter)}`);
  }

  /** A doctor books a call with contacts for later (status `scheduled`, no ringing). */
  scheduleCall(input: ScheduleCallInput): Promise<Call> {
    return this.#request('POST', '/api/calls/scheduled', input);
  }

  /** The caller's scheduled calls not yet over (booked, or started and running), soonest first. */
  listUpcomingCalls(options: { cursor?: string; limit?: number } = {}): Promise<Page<Call>> {
    return this.#request('GET', `/api/calls/scheduled${query(options)}`);
  }

  /**
   * The doctor who booked a scheduled call starts it (from SCHEDULED_CALL_START_WINDOW before its
   * time): it becomes active and the answer carries their room token; invitees then join.
   */
  startScheduledCall(callId: string): Promise<{ call: Call; access: RoomAccess }> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/start`, {});
  }

  /** Admins: every call, same filters. */
  listAllCalls(filter: CallHistoryFilter = {}): Promise<Page<Call>> {
    return this.#request('GET', `/api/admin/calls${query(filter)}`);
  }

  sendQualitySamples(callId: string, samples: Array<Omit<ClientTrackStatsSample, 'callId'>>): Promise<{ stored: number }> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/quality`, { samples });
  }

  async callQuality(callId: string, options: { trackId?: string; from?: string; limit?: number } = {}): Promise<QualitySample[]> {
    return (await this.#request<{ items: QualitySample[] }>('GET', `/api/calls/${encodeURIComponent(callId)}/quality${query(options)}`)).items;
  }

  // --- messaging --------------------------------------------------------------------------

  listConversations(options: { cursor?: string; limit?: number } = {}): Promise<Page<Conversation>> {
    return this.#request('GET', `/api/conversations${query(options)}`);
  }

  createConversation(input: { kind: 'direct' | 'group'; memberIds: string[]; title?: string }): Promise<Conversation> {
    return this.#request('POST', '/api/conversations', input);
  }

  getConversation(conversationId: string): Promise<Conversation> {
    return this.#request('GET', `/api/conversations/${encodeURIComponent(conversationId)}`);
  }

  /** `before` pages back (newest first); `after` pages forward (oldest first). */
  listMessages(conversationId: string, options: { before?: number; after?: number; limit?: number } = {}): Promise<Page<Message>> {
    return this.#request('GET', `/api/conversations/${encodeURIComponent(conversationId)}/messages${query(options)}`);
  }

  /**
   * Sends a message. The client id makes it idempotent: a network failure, or a gateway error from a
   * proxy in front of several API instances (502/503/504: the instance may have stored it before it
   * went away), is retried with the same id (up to `retries` times) and the server stores the
   * message once.
   */
  async sendMessage(conversationId: string, body: string, options: { clientId?: string; attachmentId?: string; retries?: number } = {}): Promise<Message> {
    const clientId = options.clientId ?? crypto.randomUUID();
    const payload = { clientId, body, ...(options.attachmentId ? { attachmentId: options.attachmentId } : {}) };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#request<Message>('POST', `/api/conversations/${encodeURIComponent(conversationId)}/messages`, payload);
      } catch (error) {
        const retriable = error instanceof ApiRequestError && (error.code === 'NETWORK' || GATEWAY_ERRORS.has(error.status));
        if (!retriable || attempt >= (options.retries ?? 2)) throw error;
        await sleep(backoffDelay(attempt + 1, 250, 4000));
      }
    }
  }

  markDelivered(conversationId: string, upToMessageId: number): Promise<void> {
    return this.#request('POST', `/api/conversations/${encodeURIComponent(conversationId)}/delivered`, { upToMessageId });
  }

  markRead(conversationId: string, upToMessageId: number): Promise<void> {
    return this.#request('POST', `/api/conversations/${encodeURIComponent(conversationId)}/read`, { upToMessageId });
  }

  async receipts(conversationId: string, messageId: number): Promise<Receipt[]> {
    return (await this.#request<{ items: Receipt[] }>('GET', `/api/conversations/${encodeURIComponent(conversationId)}/messages/${messageId}/receipts`)).items;
  }

  uploadAttachment(conversationId: string, file: Blob, fileName: string): Promise<Attachment> {
    const form = new FormData();
    form.append('file', file, fileName);
    return this.#request('POST', `/api/conversations/${encodeURIComponent(conversationId)}/attachments`, form);
  }

  /** The file's bytes (members of its conversation only). */
  async downloadAttachment(attachmentId: string): Promise<Blob> {
    const res = await this.#send('GET', `/api/attachments/${encodeURIComponent(attachmentId)}`, undefined, true);
    return res.blob();
  }

  // --- call recording (ENABLE_CALL_RECORDING) ---------------------------------------------

  /** Whether the installation records calls, and how long it keeps recordings (days; null: kept). */
  recordingSettings(): Promise<{ enabled: boolean; retentionDays: number | null }> {
    return this.#request('GET', '/api/recording-settings');
  }

  /**
   * Asks to record the running call (a doctor taking part). Everyone in the call gets a
   * `recording.updated` event; it records only while everyone present has consented.
   */
  requestRecording(callId: string): Promise<CallRecording> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/recording`, {});
  }

  /** Consents to (`true`) or refuses (`false`) the call's open recording request. */
  answerRecording(callId: string, granted: boolean): Promise<CallRecording> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/recording/consent`, { granted });
  }

  /** Stops the call's recording, or withdraws the request (a doctor taking part). */
  stopRecording(callId: string): Promise<CallRecording> {
    return this.#request('POST', `/api/calls/${encodeURIComponent(callId)}/recording/stop`, {});
  }

  /** The call's latest recording request and its state (any participant; undefined when recording was never asked for). */
  callRecording(callId: string): Promise<CallRecording | undefined> {
    return this.#request('GET', `/api/calls/${encodeURIComponent(callId)}/recording`);
  }

  /** The call's recordings (its doctors and admins). */
  async callRecordings(callId: string): Promise<CallRecording[]> {
    return (await this.#request<{ items: CallRecording[] }>('GET', `/api/calls/${encodeURIComponent(callId)}/recordings`)).items;
  }

  /** A ready recording's file, decrypted (its call's doctors and admins; every download is audited). */
  async downloadRecording(recordingId: string): Promise<Blob> {
    const res = await this.#send('GET', `/api/recordings/${encodeURIComponent(recordingId)}/file`, undefined, true);
    return res.blob();
  }

  // --- presence ---------------------------------------------------------------------------

  async presence(userIds?: string[]): Promise<Presence[]> {
    return (await this.#request<{ items: Presence[] }>('GET', `/api/presence${userIds ? query({ userIds: userIds.join(',') }) : ''}`)).items;
  }

  setStatus(status: 'online' | 'away' | 'busy'): Promise<Presence> {
    return this.#request('PUT', '/api/presence', { status });
  }

  // --- realtime ---------------------------------------------------------------------------

  /**
   * Opens `/events`: emits every realtime event by its name, reconnects on its own and catches up
   * from the last event seen (or from `cursor`, e.g. one saved before a page reload).
   */
  connectEvents(cursor?: number): void {
    if (this.#events && !this.#events.closed) return;
    const WebSocketClass = this.#options.WebSocket;
    if (!WebSocketClass) throw new TelemedError('UNSUPPORTED_BROWSER', 'no WebSocket implementation: pass options.WebSocket');
    const url = new URL('/events', this.#options.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let first = true;
    const connection = new EventsConnection(
      {
        url: url.toString(),
        WebSocket: WebSocketClass,
        initialDelayMs: this.#options.reconnectInitialDelayMs,
        maxDelayMs: this.#options.reconnectMaxDelayMs,
        heartbeatTimeoutMs: this.#options.eventsHeartbeatTimeoutMs,
        accessToken: async () => {
          const session = this.#session;
          if (!session) throw new ApiRequestError('UNAUTHORIZED', 401, 'not logged in');
          if (first) {
            first = false;
            return session.accessToken;
          }
          // Access tokens are short-lived: a reconnect, maybe much later, starts with a fresh one.
          return (await this.refresh().catch(() => session)).accessToken;
        },
      },
      cursor,
    );
    connection.on('event', (event) => this.#emitAppEvent(event));
    connection.on('connected', (info) => this.emit('eventsConnected', info));
    connection.on('disconnected', (info) => this.emit('eventsDisconnected', info));
    this.#events = connection;
    void connection.open();
  }

  /** The newest realtime event id seen (save it to resume after a reload). */
  get eventsCursor(): number | undefined {
    return this.#events?.cursor;
  }

  disconnectEvents(): void {
    this.#events?.close();
    this.#events = undefined;
  }

  #emitAppEvent(event: DeliveredAppEvent): void {
    (this.emit as (name: AppEventType, payload: unknown, event: DeliveredAppEvent) => boolean)(event.type, event.payload, event);
  }

  // --- transport --------------------------------------------------------------------------

  #setSession(session: Session | null): void {
    this.#session = session;
    // Their answers would be for a session that is over (a sign-out's revocation can overtake them:
    // a 401 the browser logs as a failed resource, and a refresh attempt without a session).
    if (!session) for (const request of this.#inFlight) request.abort();
    this.emit('sessionChanged', session);
  }

  async #request<T>(method: string, path: string, body?: unknown, options: { auth?: boolean } = {}): Promise<T> {
    const res = await this.#send(method, path, body, options.auth ?? true);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  async #send(method: string, path: string, body: unknown, auth: boolean, retried = false): Promise<Response> {
    const headers: Record<string, string> = {};
    if (auth) {
      if (!this.#session) throw new ApiRequestError('UNAUTHORIZED', 401, 'not logged in');
      headers.authorization = `Bearer ${this.#session.accessToken}`;
    }
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    const request = auth ? new AbortController() : undefined;
    if (request) this.#inFlight.add(request);
    try {
      res = await this.#options.fetch(new URL(path, this.#options.baseUrl), {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        ...(request ? { signal: request.signal } : {}),
      });
    } catch (cause) {
      if (request?.signal.aborted) throw new ApiRequestError('UNAUTHORIZED', 401, 'signed out while the request was in flight');
      throw await requestFailure(this.#options.baseUrl, this.#options.fetch, cause);
    } finally {
      if (request) this.#inFlight.delete(request);
    }
    if (res.status === 401 && auth && !retried && this.#session) {
      await this.refresh();
      return this.#send(method, path, body, auth, true);
    }
    if (!res.ok) {
      const error = (await res.json().catch(() => undefined)) as { error?: ApiErrorBody } | undefined;
      throw new ApiRequestError(error?.error?.code ?? 'INTERNAL', res.status, error?.error?.message ?? `HTTP ${res.status}`, error?.error?.details);
    }
    return res;
  }
}

/** What a reverse proxy answers when the API instance it chose failed or went away. */
const GATEWAY_ERRORS = new Set([502, 503, 504]);

function query(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

// The app's Backend port over the platform's REST API and realtime events.
import type * as Api from '@telemed/sdk';
import { TelemedClient, TypedEmitter } from '@telemed/sdk';
import { downloadWithName, uploadWithProgress } from './files.js';
import type {
  AccountLink,
  Attachment,
  Backend,
  MessageAttachment,
  BackendEvents,
  Call,
  ClientQualitySample,
  CallType,
  Contact,
  Conversation,
  DemoAccount,
  Message,
  Page,
  ReceiptStatus,
  Recording,
  RoomAccess,
  User,
} from './types.js';

export interface TelemedBackendOptions {
  baseUrl: string;
}

/** One session per tab: a reload resumes it, another tab signs in on its own (no cookies). */
const STORAGE_KEY = 'telemed.session';

/** How far every other member got with message `seq` of ours. */
function statusFor(seq: number, members: readonly Api.ConversationMember[], selfId: string): ReceiptStatus {
  const others = members.filter((m) => m.userId !== selfId);
  if (others.length === 0) return 'sent';
  if (others.every((m) => m.lastReadMessageId >= seq)) return 'read';
  if (others.every((m) => m.lastDeliveredMessageId >= seq)) return 'delivered';
  return 'sent';
}

export class TelemedBackend extends TypedEmitter<BackendEvents> implements Backend {
  readonly #api: TelemedClient;
  readonly #baseUrl: string;
  /** Members of conversations seen, for receipt states of loaded messages. */
  readonly #members = new Map<string, Api.ConversationMember[]>();
  /** Attachments uploaded from this page (messages carry only the id). */
  readonly #attachments = new Map<string, MessageAttachment>();

  constructor(options: TelemedBackendOptions) {
    super();
    this.#baseUrl = options.baseUrl;
    const stored = sessionStorage.getItem(STORAGE_KEY);
    const api = new TelemedClient({ baseUrl: options.baseUrl, session: stored ? (JSON.parse(stored) as Api.Session) : null });
    this.#api = api;
    api.on('sessionChanged', (session) => {
      if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      else {
        sessionStorage.removeItem(STORAGE_KEY);
        this.emit('signedOut');
      }
    });
    api.on('presence.updated', (p) => this.emit('presence', p.userId, p.status));
    // Presence is not replayed from the events cursor: a change made before /events (re)opened
    // would be lost, so every (re)connect re-reads it.
    api.on('eventsConnected', () => {
      this.emit('realtimeConnected');
      void api.presence().then(
        (list) => list.forEach((p) => this.emit('presence', p.userId, p.status)),
        () => undefined,
      );
    });
    api.on('message.created', ({ message }) => {
      if (message.senderId !== this.user?.id) {
        // Delivered as soon as it reaches one of this user's devices.
        void api.markDelivered(message.conversationId, message.id).catch(() => undefined);
      }
      this.emit('message', this.#toMessage(message, 'sent'));
    });
    const receipt =
      (kind: 'delivered' | 'read') =>
      (e: { conversationId: string; userId: string; upToMessageId: number }): void => {
        if (e.userId !== this.user?.id) this.emit('receipt', e.conversationId, e.upToMessageId, kind);
      };
    api.on('message.delivered', receipt('delivered'));
    api.on('message.read', receipt('read'));
    api.on('call.ringing', ({ call }) => this.emit('callRinging', call));
    api.on('call.scheduled', ({ call }) => this.emit('callScheduled', call));
    api.on('call.started', ({ call }) => this.emit('callStarted', call));
    api.on('call.accepted', ({ call, userId }) => this.emit('callAccepted', call, userId));
    api.on('call.admission_requested', ({ call, userId }) => this.emit('callAdmissionRequested', call, userId));
    api.on('call.admission_denied', ({ call, userId }) => this.emit('callAdmissionDenied', call, userId));
    api.on('call.declined', ({ call }) => this.emit('callDeclined', call));
    api.on('call.cancelled', ({ call }) => this.emit('callCancelled', call));
    api.on('call.missed', ({ call }) => this.emit('callMissed', call));
    api.on('call.ended', ({ call }) => this.emit('callEnded', call));
    api.on('recording.updated', ({ recording }) => this.emit('recordingUpdated', recording));
  }

  get user(): User | undefined {
    const u = this.#api.user;
    return u ? u : undefined;
  }

  async demoAccounts(): Promise<DemoAccount[]> {
    // Asked only where the server documents the route (demo mode), so production never sees a 404.
    const doc = (await (await fetch(new URL('/api/openapi.json', this.#baseUrl))).json()) as { paths?: Record<string, unknown> };
    if (!doc.paths?.['/api/demo/accounts']) return [];
    const res = await fetch(new URL('/api/demo/accounts', this.#baseUrl));
    const { items } = (await res.json()) as { items: { email: string; password: string; displayName: string; role: Api.Role }[] };
    return items.map((a) => ({ email: a.email, password: a.password, name: a.displayName, role: a.role }));
  }

  async resume(): Promise<User | undefined> {
    if (!this.#api.session) return undefined;
    try {
      const user = await this.#api.me();
      this.#api.connectEvents();
      return user;
    } catch {
      sessionStorage.removeItem(STORAGE_KEY);
      return undefined;
    }
  }

  async login(email: string, password: string): Promise<User> {
    const session = await this.#api.login(email, password);
    this.#api.connectEvents();
    return session.user;
  }

  async accountLink(token: string): Promise<AccountLink> {
    return (await this.#postPublic('/api/invitations/lookup', { token })) as AccountLink;
  }

  async setPassword(token: string, password: string): Promise<void> {
    await this.#postPublic('/api/invitations/accept', { token, password });
  }

  /** A public JSON POST; the API's error message (a 422's first detail) becomes the Error's. */
  async #postPublic(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(new URL(path, this.#baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    const parsed = (text ? JSON.parse(text) : undefined) as { error?: { message?: string; details?: Array<{ message?: string }> } } | undefined;
    if (!res.ok) throw new Error(parsed?.error?.details?.[0]?.message ?? parsed?.error?.message ?? `HTTP ${res.status}`);
    return parsed;
  }

  logout(): Promise<void> {
    return this.#api.logout();
  }

  async contacts(): Promise<Contact[]> {
    const [users, presence] = await Promise.all([this.#api.contacts(), this.#api.presence()]);
    const byId = new Map(presence.map((p) => [p.userId, p]));
    return users.map((u) => {
      const p = byId.get(u.id);
      return { ...u, presence: p?.status ?? 'offline', lastSeenAt: p?.lastSeenAt ?? null };
    });
  }

  async conversations(): Promise<Conversation[]> {
    const { items } = await this.#api.listConversations({ limit: 50 });
    // Every call gets a conversation; one nobody wrote in is not worth a row.
    return items.filter((c) => c.kind !== 'call' || c.lastMessageAt !== null).map((c) => this.#toConversation(c));
  }

  async directConversation(userId: string): Promise<Conversation> {
    return this.#toConversation(await this.#api.createConversation({ kind: 'direct', memberIds: [userId] }));
  }

  calls(options: { limit: number; before?: string }): Promise<Page<Call>> {
    return this.#api.listCalls({ limit: options.limit, ...(options.before ? { cursor: options.before } : {}) });
  }

  call(callId: string): Promise<Call> {
    return this.#api.getCall(callId);
  }

  async ringingCalls(): Promise<Call[]> {
    const userId = this.user?.id;
    // A group call is active once someone answers, and still rings those who have not.
    const pages = await Promise.all((['ringing', 'active'] as const).map((status) => this.#api.listCalls({ status, limit: 20 })));
    return pages
      .flatMap((p) => p.items)
      .filter((c) => c.initiatorId !== userId && c.participants.some((p) => p.userId === userId && p.status === 'invited'))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async startCall(inviteeIds: string[], type: CallType): Promise<{ call: Call; access: RoomAccess | undefined }> {
    return { call: await this.#api.startCall({ type, inviteeIds }), access: undefined };
  }

  async acceptCall(callId: string): Promise<RoomAccess> {
    return (await this.#api.acceptCall(callId)).access;
  }

  scheduleCall(input: { inviteeIds: string[]; type: CallType; scheduledFor: string; title?: string }): Promise<Call> {
    return this.#api.scheduleCall(input);
  }

  upcomingCalls(options: { limit: number; before?: string }): Promise<Page<Call>> {
    return this.#api.listUpcomingCalls({ limit: options.limit, ...(options.before ? { cursor: options.before } : {}) });
  }

  async startScheduledCall(callId: string): Promise<RoomAccess> {
    return (await this.#api.startScheduledCall(callId)).access;
  }

  callAccess(callId: string): Promise<RoomAccess> {
    return this.#api.callToken(callId);
  }

  async joinCall(callId: string): Promise<RoomAccess | undefined> {
    const call = await this.#api.getCall(callId);
    const me = call.participants.find((p) => p.userId === this.user?.id);
    // An accepted participant (the caller once answered) only needs a token; others join.
    if (me?.status === 'accepted') return this.#api.callToken(callId);
    const { access } = await this.#api.joinCall(callId);
    return access ?? undefined;
  }

  async recordingEnabled(): Promise<boolean> {
    return (await this.#api.recordingSettings()).enabled;
  }

  recording(callId: string): Promise<Recording | undefined> {
    return this.#api.callRecording(callId);
  }

  requestRecording(callId: string): Promise<Recording> {
    return this.#api.requestRecording(callId);
  }

  answerRecording(callId: string, granted: boolean): Promise<Recording> {
    return this.#api.answerRecording(callId, granted);
  }

  stopRecording(callId: string): Promise<Recording> {
    return this.#api.stopRecording(callId);
  }

  async admit(callId: string, userId: string): Promise<void> {
    await this.#api.admitToCall(callId, userId);
  }

  async deny(callId: string, userId: string): Promise<void> {
    await this.#api.denyAdmission(callId, userId);
  }

  async declineCall(callId: string): Promise<void> {
    await this.#api.declineCall(callId);
  }

  async cancelCall(callId: string): Promise<void> {
    await this.#api.cancelCall(callId);
  }

  async endCall(callId: string): Promise<void> {
    await this.#api.endCall(callId);
  }

  async leaveCall(callId: string): Promise<void> {
    await this.#api.leaveCall(callId);
  }

  async reportQuality(callId: string, samples: ClientQualitySample[]): Promise<void> {
    await this.#api.sendQualitySamples(callId, samples);
  }

  async messages(conversationId: string, options: { limit: number; before?: string }): Promise<Page<Message>> {
    const [page, conversation] = await Promise.all([
      this.#api.listMessages(conversationId, { limit: options.limit, ...(options.before ? { before: Number(options.before) } : {}) }),
      this.#api.getConversation(conversationId),
    ]);
    this.#members.set(conversationId, conversation.members);
    const self = this.user?.id ?? '';
    return {
      items: page.items.map((m) => this.#toMessage(m, statusFor(m.id, conversation.members, self))),
      nextCursor: page.nextCursor,
    };
  }

  async sendMessage(conversationId: string, message: { clientId: string; body: string; attachmentIds: string[] }): Promise<Message> {
    const stored = await this.#api.sendMessage(conversationId, message.body, {
      clientId: message.clientId,
      ...(message.attachmentIds[0] ? { attachmentId: message.attachmentIds[0] } : {}),
    });
    return this.#toMessage(stored, 'sent');
  }

  async uploadAttachment(conversationId: string, file: File, onProgress: (fraction: number) => void): Promise<Attachment> {
    const stored = await uploadWithProgress(this.#api, this.#baseUrl, conversationId, file, onProgress);
    onProgress(1);
    this.#attachments.set(stored.id, stored);
    return stored;
  }

  async attachmentUrl(attachment: MessageAttachment): Promise<{ url: string; name: string }> {
    const { blob, fileName } = await downloadWithName(this.#api, this.#baseUrl, attachment.id);
    return { url: URL.createObjectURL(blob), name: fileName ?? attachment.fileName };
  }

  async markRead(conversationId: string, upToSeq: number): Promise<void> {
    await this.#api.markRead(conversationId, upToSeq);
  }

  #toConversation(c: Api.Conversation): Conversation {
    this.#members.set(c.id, c.members);
    const self = this.user?.id;
    const others = c.members.filter((m) => m.userId !== self);
    return { ...c, title: c.title ?? `${c.kind === 'call' ? 'Call: ' : ''}${others.map((m) => m.displayName).join(', ') || 'Just you'}` };
  }

  #toMessage(m: Api.Message, status: ReceiptStatus): Message {
    return {
      id: String(m.id),
      seq: m.id,
      clientId: m.clientId,
      conversationId: m.conversationId,
      senderId: m.senderId,
      body: m.body,
      attachments: m.attachmentId
        ? [this.#attachments.get(m.attachmentId) ?? { id: m.attachmentId, fileName: 'Attachment', sizeBytes: 0, contentType: '' }]
        : [],
      createdAt: m.createdAt,
      status,
    };
  }
}

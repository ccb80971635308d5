// The app's Backend port over the platform's REST API and realtime events.
import type * as Api from '@telemed/sdk';
import { TypedEmitter } from '@telemed/sdk';
import { ApiClient } from './api-client.js';
import type {
  Attachment, Backend, BackendEvents, Call, ClientQualitySample, CallType, Contact, Conversation, DemoAccount, Message, Page, PresenceStatus, ReceiptStatus, RoomAccess, User,
} from './types.js';

export interface TelemedBackendOptions {
  baseUrl: string;
}

function toUser(u: Api.User): User {
  return { id: u.id, name: u.displayName, email: u.email, role: u.role };
}

function toPresence(status: Api.PresenceStatus): PresenceStatus {
  return status === 'in_call' ? 'in-call' : status;
}

function toCall(c: Api.Call): Call {
  return {
    id: c.id,
    type: c.type,
    status: c.status,
    callerId: c.initiatorId,
    participants: c.participants.map((p) => ({ userId: p.userId, name: p.displayName })),
    conversationId: c.conversationId ?? undefined,
    createdAt: c.createdAt,
    startedAt: c.startedAt ?? undefined,
    endedAt: c.endedAt ?? undefined,
    durationSeconds: c.durationSeconds ?? undefined,
  };
}

function toAccess(a: Api.RoomAccess): RoomAccess {
  return { url: a.url, token: a.token };
}

/** How far every other member got with message `seq` of ours. */
function statusFor(seq: number, members: readonly Api.ConversationMember[], selfId: string): ReceiptStatus {
  const others = members.filter((m) => m.userId !== selfId);
  if (others.length === 0) return 'sent';
  if (others.every((m) => m.lastReadMessageId >= seq)) return 'read';
  if (others.every((m) => m.lastDeliveredMessageId >= seq)) return 'delivered';
  return 'sent';
}

export class TelemedBackend extends TypedEmitter<BackendEvents> implements Backend {
  readonly #api: ApiClient;
  /** Members of conversations seen, for receipt states of loaded messages. */
  readonly #members = new Map<string, Api.ConversationMember[]>();
  /** Attachments uploaded from this page (messages carry only the id). */
  readonly #attachments = new Map<string, Attachment>();

  constructor(options: TelemedBackendOptions) {
    super();
    this.#api = new ApiClient(options.baseUrl);
    const api = this.#api;
    api.on('signedOut', () => this.emit('signedOut'));
    api.on('presence.updated', (p) => this.emit('presence', p.userId, toPresence(p.status)));
    api.on('message.created', ({ message }) => {
      const self = this.user?.id;
      if (message.senderId !== self) {
        // Delivered as soon as it reaches one of this user's devices.
        void api.request('POST', `/api/conversations/${message.conversationId}/delivered`, { upToMessageId: message.id }).catch(() => undefined);
      }
      this.emit('message', this.#toMessage(message, 'sent'));
    });
    for (const kind of ['delivered', 'read'] as const) {
      api.on(`message.${kind}`, (e) => {
        if (e.userId !== this.user?.id) this.emit('receipt', e.conversationId, e.upToMessageId, kind);
      });
    }
    api.on('call.ringing', ({ call }) => this.emit('callRinging', toCall(call)));
    api.on('call.accepted', ({ call }) => this.emit('callAccepted', toCall(call)));
    api.on('call.declined', ({ call }) => this.emit('callDeclined', toCall(call)));
    api.on('call.cancelled', ({ call }) => this.emit('callCancelled', toCall(call)));
    api.on('call.missed', ({ call }) => this.emit('callMissed', toCall(call)));
    api.on('call.ended', ({ call }) => this.emit('callEnded', toCall(call)));
  }

  get user(): User | undefined {
    const u = this.#api.user;
    return u ? toUser(u) : undefined;
  }

  async demoAccounts(): Promise<DemoAccount[]> {
    // Only asked where the server documents the route (demo mode), so production never sees a 404.
    const doc = await this.#api.request<{ paths?: Record<string, unknown> }>('GET', '/api/openapi.json');
    if (!doc.paths?.['/api/demo/accounts']) return [];
    const { items } = await this.#api.request<{ items: { email: string; password: string; displayName: string; role: Api.Role }[] }>('GET', '/api/demo/accounts');
    return items.map((a) => ({ email: a.email, password: a.password, name: a.displayName, role: a.role }));
  }

  async resume(): Promise<User | undefined> {
    const u = await this.#api.resume();
    return u ? toUser(u) : undefined;
  }

  async login(email: string, password: string): Promise<User> {
    return toUser(await this.#api.login(email, password));
  }

  logout(): Promise<void> {
    return this.#api.logout();
  }

  async contacts(): Promise<Contact[]> {
    const [{ items: users }, { items: presence }] = await Promise.all([
      this.#api.request<{ items: Api.User[] }>('GET', '/api/users/contacts'),
      this.#api.request<{ items: Api.Presence[] }>('GET', '/api/presence'),
    ]);
    const byId = new Map(presence.map((p) => [p.userId, p]));
    return users.map((u) => {
      const p = byId.get(u.id);
      return { ...toUser(u), presence: p ? toPresence(p.status) : 'offline', lastSeenAt: p?.lastSeenAt ?? undefined };
    });
  }

  async conversations(): Promise<Conversation[]> {
    const { items } = await this.#api.request<Api.Page<Api.Conversation>>('GET', '/api/conversations?limit=50');
    return items.map((c) => this.#toConversation(c));
  }

  async directConversation(userId: string): Promise<Conversation> {
    return this.#toConversation(await this.#api.request<Api.Conversation>('POST', '/api/conversations', { kind: 'direct', memberIds: [userId] }));
  }

  async calls(options: { limit: number; before?: string }): Promise<Page<Call>> {
    const query = new URLSearchParams({ limit: String(options.limit), ...(options.before ? { cursor: options.before } : {}) });
    const page = await this.#api.request<Api.Page<Api.Call>>('GET', `/api/calls?${query}`);
    return { items: page.items.map(toCall), nextCursor: page.nextCursor ?? undefined };
  }

  async call(callId: string): Promise<Call> {
    return toCall(await this.#api.request<Api.Call>('GET', `/api/calls/${callId}`));
  }

  async startCall(inviteeId: string, type: CallType): Promise<{ call: Call; access: RoomAccess | undefined }> {
    const call = await this.#api.request<Api.Call>('POST', '/api/calls', { type, inviteeIds: [inviteeId] });
    return { call: toCall(call), access: undefined };
  }

  async acceptCall(callId: string): Promise<RoomAccess> {
    const { access } = await this.#api.request<{ call: Api.Call; access: Api.RoomAccess }>('POST', `/api/calls/${callId}/accept`);
    return toAccess(access);
  }

  async joinCall(callId: string): Promise<RoomAccess> {
    const call = await this.#api.request<Api.Call>('GET', `/api/calls/${callId}`);
    const me = call.participants.find((p) => p.userId === this.user?.id);
    // An accepted participant (the caller once answered) only needs a token; others join.
    if (me?.status === 'accepted') return toAccess(await this.#api.request<Api.RoomAccess>('POST', `/api/calls/${callId}/token`));
    const { access } = await this.#api.request<{ call: Api.Call; access: Api.RoomAccess }>('POST', `/api/calls/${callId}/join`);
    return toAccess(access);
  }

  async declineCall(callId: string): Promise<void> {
    await this.#api.request('POST', `/api/calls/${callId}/decline`);
  }

  async cancelCall(callId: string): Promise<void> {
    await this.#api.request('POST', `/api/calls/${callId}/cancel`);
  }

  async endCall(callId: string): Promise<void> {
    await this.#api.request('POST', `/api/calls/${callId}/end`);
  }

  async reportQuality(callId: string, samples: ClientQualitySample[]): Promise<void> {
    await this.#api.request('POST', `/api/calls/${callId}/quality`, { samples });
  }

  async messages(conversationId: string, options: { limit: number; before?: string }): Promise<Page<Message>> {
    const query = new URLSearchParams({ limit: String(options.limit), ...(options.before ? { before: options.before } : {}) });
    const [page, conversation] = await Promise.all([
      this.#api.request<Api.Page<Api.Message>>('GET', `/api/conversations/${conversationId}/messages?${query}`),
      this.#api.request<Api.Conversation>('GET', `/api/conversations/${conversationId}`),
    ]);
    this.#members.set(conversationId, conversation.members);
    const self = this.user?.id ?? '';
    return {
      items: page.items.map((m) => this.#toMessage(m, statusFor(m.id, conversation.members, self))),
      nextCursor: page.nextCursor ?? undefined,
    };
  }

  async sendMessage(conversationId: string, message: { clientId: string; body: string; attachmentIds: string[] }): Promise<Message> {
    const stored = await this.#api.request<Api.Message>('POST', `/api/conversations/${conversationId}/messages`, {
      clientId: message.clientId,
      body: message.body,
      ...(message.attachmentIds[0] ? { attachmentId: message.attachmentIds[0] } : {}),
    });
    return this.#toMessage(stored, 'sent');
  }

  async uploadAttachment(conversationId: string, file: File, onProgress: (fraction: number) => void): Promise<Attachment> {
    const form = new FormData();
    form.append('file', file, file.name);
    const stored = await this.#api.upload<Api.Attachment>(`/api/conversations/${conversationId}/attachments`, form, onProgress);
    const attachment = { id: stored.id, name: stored.fileName, size: stored.sizeBytes, contentType: stored.contentType };
    this.#attachments.set(attachment.id, attachment);
    return attachment;
  }

  async attachmentUrl(attachment: Attachment): Promise<{ url: string; name: string }> {
    const { blob, fileName } = await this.#api.download(`/api/attachments/${attachment.id}`);
    return { url: URL.createObjectURL(blob), name: fileName ?? attachment.name };
  }

  async markRead(conversationId: string, upToSeq: number): Promise<void> {
    await this.#api.request('POST', `/api/conversations/${conversationId}/read`, { upToMessageId: upToSeq });
  }

  #toConversation(c: Api.Conversation): Conversation {
    this.#members.set(c.id, c.members);
    const self = this.user?.id;
    const others = c.members.filter((m) => m.userId !== self);
    return {
      id: c.id,
      title: c.title ?? (others.map((m) => m.displayName).join(', ') || 'Just you'),
      members: c.members.map((m) => ({ userId: m.userId, name: m.displayName })),
      unreadCount: c.unreadCount,
      lastMessageAt: c.lastMessageAt ?? undefined,
    };
  }

  #toMessage(m: Api.Message, status: ReceiptStatus): Message {
    return {
      id: String(m.id),
      seq: m.id,
      clientId: m.clientId,
      conversationId: m.conversationId,
      senderId: m.senderId,
      body: m.body,
      attachments: m.attachmentId ? [this.#attachments.get(m.attachmentId) ?? { id: m.attachmentId, name: 'Attachment', size: 0, contentType: '' }] : [],
      createdAt: m.createdAt,
      status,
    };
  }
}

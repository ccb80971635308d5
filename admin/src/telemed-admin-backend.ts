// The dashboard's port over the SDK's TelemedClient. The admin-only lists the client has no
// method for yet (users, live quality, presence) are read with the client's session token.
import {
  ApiRequestError,
  TelemedClient,
  type AdminUser,
  type ApiErrorCode,
  type ApiKey,
  type ApiKeyScope,
  type AuditRow,
  type Call,
  type CallRecording,
  type CallTimelineEntry,
  type CareRelationship,
  type CareTeam,
  type Invitation,
  type Page,
  type Presence,
  type QualitySample,
  type Role,
  type Session,
  type User,
  type Webhook,
  type WebhookDelivery,
} from '@telemed/sdk';
import type { AdminBackend, AuditFilter, CallFilter, LiveQuality } from './backend.js';

const STORAGE_KEY = 'telemed.admin.session';

export class TelemedAdminBackend implements AdminBackend {
  readonly #api: TelemedClient;
  readonly #baseUrl: string;
  #routes: Promise<Set<string>> | undefined;

  constructor(options: { baseUrl: string }) {
    this.#baseUrl = options.baseUrl;
    const stored = sessionStorage.getItem(STORAGE_KEY);
    this.#api = new TelemedClient({ baseUrl: options.baseUrl, session: stored ? (JSON.parse(stored) as Session) : null });
    this.#api.on('sessionChanged', (session) => {
      if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      else sessionStorage.removeItem(STORAGE_KEY);
    });
  }

  get user(): User | undefined {
    return this.#api.user ?? undefined;
  }

  async resume(): Promise<User | undefined> {
    if (!this.#api.session) return undefined;
    try {
      return await this.#api.me();
    } catch {
      sessionStorage.removeItem(STORAGE_KEY);
      return undefined;
    }
  }

  async login(email: string, password: string): Promise<User> {
    return (await this.#api.login(email, password)).user;
  }

  logout(): Promise<void> {
    return this.#api.logout();
  }

  calls(filter: CallFilter, page: { cursor?: string; limit: number }): Promise<Page<Call>> {
    return this.#api.listAllCalls({ ...filter, limit: page.limit, ...(page.cursor ? { cursor: page.cursor } : {}) });
  }

  call(callId: string): Promise<Call> {
    return this.#api.getCall(callId);
  }

  timeline(callId: string): Promise<CallTimelineEntry[]> {
    return this.#api.callTimeline(callId);
  }

  quality(callId: string): Promise<QualitySample[]> {
    return this.#api.callQuality(callId, { limit: 5000 });
  }

  recordings(callId: string): Promise<CallRecording[]> {
    return this.#api.callRecordings(callId);
  }

  downloadRecording(recordingId: string): Promise<Blob> {
    return this.#api.downloadRecording(recordingId);
  }

  async liveQuality(): Promise<LiveQuality[]> {
    return (await this.#get<{ items: LiveQuality[] }>('/api/admin/quality/live')).items;
  }

  async users(): Promise<User[]> {
    const out: User[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<User> = await this.#get(`/api/admin/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  async presence(userIds: string[]): Promise<Presence[] | undefined> {
    // Asked only where the server documents the route, so an older server never sees a 404.
    this.#routes ??= fetch(new URL('/api/openapi.json', this.#baseUrl))
      .then((r) => r.json() as Promise<{ paths?: Record<string, unknown> }>)
      .then((doc) => new Set(Object.keys(doc.paths ?? {})));
    if (!(await this.#routes).has('/api/admin/presence')) return undefined;
    if (userIds.length === 0) return [];
    return (await this.#get<{ items: Presence[] }>(`/api/admin/presence?userIds=${userIds.join(',')}`)).items;
  }

  async accounts(search?: string): Promise<AdminUser[]> {
    const out: AdminUser[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '200', ...(search ? { q: search } : {}), ...(cursor ? { cursor } : {}) });
      const page: Page<AdminUser> = await this.#get(`/api/admin/users?${query}`);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  createAccount(input: { email: string; displayName: string; role: Role }): Promise<{ user: AdminUser; invitation: Invitation }> {
    return this.#send('POST', '/api/admin/users', input);
  }

  editAccount(userId: string, patch: { displayName?: string; role?: Role }): Promise<AdminUser> {
    return this.#send('PATCH', `/api/admin/users/${userId}`, patch);
  }

  setDisabled(userId: string, disabled: boolean): Promise<AdminUser> {
    return this.#send('POST', `/api/admin/users/${userId}/${disabled ? 'disable' : 'enable'}`);
  }

  resetPassword(userId: string): Promise<Invitation> {
    return this.#send('POST', `/api/admin/users/${userId}/reset-password`);
  }

  async careRelationships(): Promise<CareRelationship[]> {
    return (await this.#get<{ items: CareRelationship[] }>('/api/admin/care-relationships')).items;
  }

  link(doctorId: string, patientId: string): Promise<void> {
    return this.#send('POST', '/api/admin/care-relationships', { doctorId, patientId });
  }

  unlink(doctorId: string, patientId: string): Promise<void> {
    return this.#send('DELETE', `/api/admin/care-relationships/${doctorId}/${patientId}`);
  }

  async careTeams(): Promise<CareTeam[]> {
    return (await this.#get<{ items: CareTeam[] }>('/api/admin/care-teams')).items;
  }

  createTeam(name: string): Promise<CareTeam> {
    return this.#send('POST', '/api/admin/care-teams', { name });
  }

  deleteTeam(teamId: string): Promise<void> {
    return this.#send('DELETE', `/api/admin/care-teams/${teamId}`);
  }

  addMember(teamId: string, userId: string): Promise<CareTeam> {
    return this.#send('PUT', `/api/admin/care-teams/${teamId}/members/${userId}`);
  }

  removeMember(teamId: string, userId: string): Promise<void> {
    return this.#send('DELETE', `/api/admin/care-teams/${teamId}/members/${userId}`);
  }

  audit(filter: AuditFilter, page: { cursor?: string; limit: number }): Promise<Page<AuditRow>> {
    const query = new URLSearchParams({ limit: String(page.limit) });
    for (const [key, value] of Object.entries({ ...filter, cursor: page.cursor })) if (value) query.set(key, value);
    return this.#get(`/api/admin/audit?${query}`);
  }

  async apiKeys(): Promise<ApiKey[]> {
    return (await this.#get<{ items: ApiKey[] }>('/api/admin/api-keys')).items;
  }

  createApiKey(input: { name: string; scopes: ApiKeyScope[] }): Promise<{ apiKey: ApiKey; secret: string }> {
    return this.#send('POST', '/api/admin/api-keys', input);
  }

  revokeApiKey(keyId: string): Promise<ApiKey> {
    return this.#send('POST', `/api/admin/api-keys/${keyId}/revoke`);
  }

  async webhooks(): Promise<Webhook[]> {
    return (await this.#get<{ items: Webhook[] }>('/api/admin/webhooks')).items;
  }

  registerWebhook(input: { url: string; description?: string; eventTypes: string[] }): Promise<{ webhook: Webhook; secret: string }> {
    return this.#send('POST', '/api/admin/webhooks', input);
  }

  disableWebhook(webhookId: string): Promise<Webhook> {
    return this.#send('POST', `/api/admin/webhooks/${webhookId}/disable`);
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    await this.#send<undefined>('DELETE', `/api/admin/webhooks/${webhookId}`);
  }

  async webhookDeliveries(webhookId: string): Promise<WebhookDelivery[]> {
    return (await this.#get<{ items: WebhookDelivery[] }>(`/api/admin/webhooks/${webhookId}/deliveries?limit=50`)).items;
  }

  testWebhook(webhookId: string): Promise<WebhookDelivery> {
    return this.#send('POST', `/api/admin/webhooks/${webhookId}/test`);
  }

  redeliver(webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.#send('POST', `/api/admin/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver`);
  }

  #get<T>(path: string): Promise<T> {
    return this.#send('GET', path);
  }

  /** A request with the client's access token, refreshed once on 401; the API's error becomes an ApiRequestError. */
  async #send<T>(method: string, path: string, json?: unknown): Promise<T> {
    const send = (token: string | undefined): Promise<Response> =>
      fetch(new URL(path, this.#baseUrl), {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    let res = await send(this.#api.session?.accessToken);
    if (res.status === 401 && this.#api.session) res = await send((await this.#api.refresh()).accessToken);
    const body = (await res.json().catch(() => undefined)) as
      { error?: { code?: string; message?: string; details?: Array<{ message?: string }> } } | undefined;
    if (!res.ok)
      throw new ApiRequestError(
        (body?.error?.code ?? 'INTERNAL') as ApiErrorCode,
        res.status,
        body?.error?.details?.[0]?.message ?? body?.error?.message ?? `HTTP ${res.status}`,
      );
    return body as T;
  }
}

// The dashboard's port over the SDK's TelemedClient. The admin-only lists the client has no
// method for yet (users, live quality, presence) are read with the client's session token.
import { ApiRequestError, TelemedClient, type ApiErrorCode, type Call, type CallRecording, type CallTimelineEntry, type Page, type Presence, type QualitySample, type Session, type User } from '@telemed/sdk';
import type { AdminBackend, CallFilter, LiveQuality } from './backend.js';

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
    this.#routes ??= fetch(new URL('/api/openapi.json', this.#baseUrl)).then((r) => r.json() as Promise<{ paths?: Record<string, unknown> }>).then((doc) => new Set(Object.keys(doc.paths ?? {})));
    if (!(await this.#routes).has('/api/admin/presence')) return undefined;
    if (userIds.length === 0) return [];
    return (await this.#get<{ items: Presence[] }>(`/api/admin/presence?userIds=${userIds.join(',')}`)).items;
  }

  /** GET with the client's access token, refreshed once on 401. */
  async #get<T>(path: string): Promise<T> {
    const send = (token: string | undefined): Promise<Response> => fetch(new URL(path, this.#baseUrl), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    let res = await send(this.#api.session?.accessToken);
    if (res.status === 401 && this.#api.session) res = await send((await this.#api.refresh()).accessToken);
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
    if (!res.ok) throw new ApiRequestError((body?.error?.code ?? 'INTERNAL') as ApiErrorCode, res.status, body?.error?.message ?? `HTTP ${res.status}`);
    return body as T;
  }
}

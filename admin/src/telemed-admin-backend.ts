// The dashboard's port over the platform's REST API (admin routes). Tokens in sessionStorage.
import type { Call, Page, Presence, QualitySample, Session, User } from '@telemed/sdk';
import type { AdminBackend, CallFilter, LiveQuality } from './backend.js';

const STORAGE_KEY = 'telemed.admin.session';

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export class TelemedAdminBackend implements AdminBackend {
  readonly #baseUrl: string;
  #session: Session | undefined;
  #routes: Promise<Set<string>> | undefined;

  constructor(options: { baseUrl: string }) {
    this.#baseUrl = options.baseUrl;
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored) this.#session = JSON.parse(stored) as Session;
  }

  get user(): User | undefined {
    return this.#session?.user;
  }

  async resume(): Promise<User | undefined> {
    if (!this.#session) return undefined;
    try {
      return await this.#request<User>('GET', '/api/users/me');
    } catch {
      this.#store(undefined);
      return undefined;
    }
  }

  async login(email: string, password: string): Promise<User> {
    const session = await this.#send<Session>('POST', '/api/auth/login', { email, password }, undefined);
    this.#store(session);
    return session.user;
  }

  async logout(): Promise<void> {
    const refreshToken = this.#session?.refreshToken;
    this.#store(undefined);
    if (refreshToken) await this.#send('POST', '/api/auth/logout', { refreshToken }, undefined).catch(() => undefined);
  }

  calls(filter: CallFilter, page: { cursor?: string; limit: number }): Promise<Page<Call>> {
    const query = new URLSearchParams({ limit: String(page.limit) });
    for (const [key, value] of Object.entries({ ...filter, cursor: page.cursor })) if (value) query.set(key, value);
    return this.#request('GET', `/api/admin/calls?${query}`);
  }

  call(callId: string): Promise<Call> {
    return this.#request('GET', `/api/calls/${callId}`);
  }

  async quality(callId: string): Promise<QualitySample[]> {
    return (await this.#request<{ items: QualitySample[] }>('GET', `/api/calls/${callId}/quality?limit=5000`)).items;
  }

  async liveQuality(): Promise<LiveQuality[]> {
    return (await this.#request<{ items: LiveQuality[] }>('GET', '/api/admin/quality/live')).items;
  }

  async users(): Promise<User[]> {
    const out: User[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<User> = await this.#request('GET', `/api/admin/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  async presence(userIds: string[]): Promise<Presence[] | undefined> {
    // Asked only where the server documents the route, so an older server never sees a 404.
    this.#routes ??= this.#send<{ paths?: Record<string, unknown> }>('GET', '/api/openapi.json', undefined, undefined).then((doc) => new Set(Object.keys(doc.paths ?? {})));
    if (!(await this.#routes).has('/api/admin/presence')) return undefined;
    if (userIds.length === 0) return [];
    return (await this.#request<{ items: Presence[] }>('GET', `/api/admin/presence?userIds=${userIds.join(',')}`)).items;
  }

  /** An authenticated request; on 401 the refresh token is traded once for a new access token. */
  async #request<T>(method: string, path: string): Promise<T> {
    try {
      return await this.#send<T>(method, path, undefined, this.#session?.accessToken);
    } catch (error) {
      const refreshToken = this.#session?.refreshToken;
      if (!(error instanceof HttpError) || error.status !== 401 || !refreshToken) throw error;
      this.#store(await this.#send<Session>('POST', '/api/auth/refresh', { refreshToken }, undefined));
      return this.#send<T>(method, path, undefined, this.#session?.accessToken);
    }
  }

  async #send<T>(method: string, path: string, body: unknown, token: string | undefined): Promise<T> {
    const res = await fetch(new URL(path, this.#baseUrl), {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new HttpError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  #store(session: Session | undefined): void {
    this.#session = session;
    if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(STORAGE_KEY);
  }
}

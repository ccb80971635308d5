// A small REST + realtime-events client over the API's documented routes, kept until the SDK's
// TelemedClient lands (then the backend adapter switches to it and this file goes). Tokens live
// in sessionStorage (one session per tab; no cookies in auth).
import { TypedEmitter, type AppEventMap, type DeliveredAppEvent, type EventsServerFrame, type Session, type User } from '@telemed/sdk';

const STORAGE_KEY = 'telemed.session';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

type ClientEvents = { [K in keyof AppEventMap]: [AppEventMap[K]] } & { signedOut: []; connected: [] };

export class ApiClient extends TypedEmitter<ClientEvents> {
  readonly baseUrl: string;
  #session: Session | undefined;
  #refreshing: Promise<void> | undefined;
  #socket: WebSocket | undefined;
  #cursor = 0;
  #retry = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(baseUrl: string) {
    super();
    this.baseUrl = baseUrl;
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored) this.#session = JSON.parse(stored) as Session;
  }

  get user(): User | undefined {
    return this.#session?.user;
  }

  async login(email: string, password: string): Promise<User> {
    const session = await this.#fetch<Session>('POST', '/api/auth/login', { email, password }, false);
    this.#store(session);
    this.#connectEvents();
    return session.user;
  }

  /** Checks a stored session still works (refreshing it when needed) and opens the events. */
  async resume(): Promise<User | undefined> {
    if (!this.#session) return undefined;
    try {
      const user = await this.request<User>('GET', '/api/users/me');
      this.#connectEvents();
      return user;
    } catch {
      this.#store(undefined);
      return undefined;
    }
  }

  async logout(): Promise<void> {
    const refreshToken = this.#session?.refreshToken;
    this.#store(undefined);
    this.#closeEvents();
    if (refreshToken) await this.#fetch('POST', '/api/auth/logout', { refreshToken }, false).catch(() => undefined);
  }

  /** An authenticated JSON request; refreshes the access token once on 401. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.#fetch<T>(method, path, body, true);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !this.#session) throw error;
      await this.#refresh();
      return this.#fetch<T>(method, path, body, true);
    }
  }

  /** Uploads `form` with progress (fetch has no upload progress; XMLHttpRequest does). */
  async upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
    const send = (): Promise<{ status: number; body: unknown }> => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', new URL(path, this.baseUrl));
      if (this.#session) xhr.setRequestHeader('authorization', `Bearer ${this.#session.accessToken}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText ? JSON.parse(xhr.responseText) : undefined });
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'the upload failed'));
      xhr.send(form);
    });
    let result = await send();
    if (result.status === 401 && this.#session) {
      await this.#refresh();
      result = await send();
    }
    if (result.status >= 400) {
      const error = (result.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(result.status, error?.code ?? `HTTP_${result.status}`, error?.message ?? `HTTP ${result.status}`);
    }
    onProgress(1);
    return result.body as T;
  }

  /** Downloads an authenticated file: its bytes and the name the server gives it. */
  async download(path: string): Promise<{ blob: Blob; fileName: string | undefined }> {
    const get = (): Promise<Response> => fetch(new URL(path, this.baseUrl), { headers: this.#session ? { authorization: `Bearer ${this.#session.accessToken}` } : {} });
    let res = await get();
    if (res.status === 401 && this.#session) {
      await this.#refresh();
      res = await get();
    }
    if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `the download failed (HTTP ${res.status})`);
    const disposition = res.headers.get('content-disposition') ?? '';
    const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
    return { blob: await res.blob(), fileName: encoded ? decodeURIComponent(encoded) : /filename="([^"]+)"/.exec(disposition)?.[1] };
  }

  async #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const refreshToken = this.#session?.refreshToken;
        if (!refreshToken) throw new ApiError(401, 'UNAUTHORIZED', 'signed out');
        this.#store(await this.#fetch<Session>('POST', '/api/auth/refresh', { refreshToken }, false));
      } catch (error) {
        this.#store(undefined);
        this.#closeEvents();
        this.emit('signedOut');
        throw error;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  async #fetch<T>(method: string, path: string, body: unknown, auth: boolean): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth && this.#session) headers.authorization = `Bearer ${this.#session.accessToken}`;
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  #store(session: Session | undefined): void {
    this.#session = session;
    if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(STORAGE_KEY);
  }

  #connectEvents(): void {
    if (this.#socket || !this.#session) return;
    const url = new URL('/events', this.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('access_token', this.#session.accessToken);
    url.searchParams.set('after', String(this.#cursor));
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onmessage = (message) => {
      const frame = JSON.parse(String(message.data)) as EventsServerFrame;
      if (frame.kind === 'event') this.#deliver(frame.event);
      else if (frame.kind === 'ready') {
        this.#cursor = Math.max(this.#cursor, frame.cursor);
        this.#retry = 0;
        this.emit('connected');
      }
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (!this.#session) return;
      // Reconnect with a jittered backoff; a refused token is refreshed first.
      const delay = Math.min(10_000, 500 * 2 ** this.#retry++) * (0.5 + Math.random() / 2);
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        void this.#refresh().then(() => this.#connectEvents(), () => undefined);
      }, delay);
    };
  }

  #deliver(event: DeliveredAppEvent): void {
    if (event.id <= this.#cursor) return;
    this.#cursor = event.id;
    (this.emit as (type: string, payload: unknown) => boolean)(event.type, event.payload);
  }

  #closeEvents(): void {
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
  }
}

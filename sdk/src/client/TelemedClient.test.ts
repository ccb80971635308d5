import { describe, expect, it } from 'vitest';
import type { Session } from './api-types.js';
import { ApiRequestError } from './ApiRequestError.js';
import { TelemedClient } from './TelemedClient.js';

const session = { accessToken: 'access', refreshToken: 'refresh', user: { id: 'u1' } } as unknown as Session;

/** A fetch that answers the sign-out at once and holds every other request until aborted. */
function fakeApi(): { fetch: typeof fetch; log: string[] } {
  const log: string[] = [];
  const fetch = ((url: URL, init: RequestInit = {}) => {
    const path = `${init.method ?? 'GET'} ${url.pathname}`;
    log.push(path);
    if (path === 'POST /api/auth/logout') return Promise.resolve(new Response(null, { status: 204 }));
    return new Promise<Response>((_, reject) =>
      init.signal?.addEventListener('abort', () => {
        log.push(`aborted ${path}`);
        reject(new DOMException('aborted', 'AbortError'));
      }),
    );
  }) as typeof globalThis.fetch;
  return { fetch, log };
}

describe('TelemedClient', () => {
  it('cancels the requests in flight when the user signs out, before the sign-out reaches the API', async () => {
    const api = fakeApi();
    const client = new TelemedClient({ baseUrl: 'http://api.test', session, fetch: api.fetch });
    const pending = client.presence();
    await client.logout();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    // Cancelled first: the API never answers it for a session it has just revoked.
    expect(api.log).toEqual(['GET /api/presence', 'aborted GET /api/presence', 'POST /api/auth/logout']);
  });
});

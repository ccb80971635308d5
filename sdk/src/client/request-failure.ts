import { ApiRequestError } from './ApiRequestError.js';

/**
 * The error for a fetch to the API that threw. A browser reports a request its CORS check blocked
 * exactly like an unreachable server (a bare TypeError), so a page on another origin asks again
 * without CORS (`no-cors`, an opaque answer that tells only that the server answered): when that
 * works, the API is up and its CORS settings leave this page's origin out.
 */
export async function requestFailure(baseUrl: string, fetchFn: typeof fetch, cause: unknown): Promise<ApiRequestError> {
  const page = (globalThis as { location?: { origin?: string; href?: string } }).location;
  const api = new URL(baseUrl, page?.href);
  if (page?.origin && page.origin !== 'null' && api.origin !== page.origin) {
    try {
      await fetchFn(new URL('/live', api), { mode: 'no-cors', cache: 'no-store' });
      return new ApiRequestError(
        'CORS_BLOCKED',
        0,
        `the API at ${api.origin} answered, but its CORS settings do not allow this page's origin (${page.origin}): add ${page.origin} to the API's CORS_ORIGINS`,
        undefined,
        { cause },
      );
    } catch {
      // Not reachable either way.
    }
  }
  return new ApiRequestError('NETWORK', 0, `the API at ${baseUrl} could not be reached`, undefined, { cause });
}

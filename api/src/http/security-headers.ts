import type { Middleware } from 'koa';

export interface SecurityHeaderOptions {
  /** The media server's signaling URL as browsers reach it (ws:// or wss://): the apps connect to it. */
  mediaPublicUrl: string;
  /** Origins of further media nodes (the registry's, ws:// or wss://) the pages may connect to. */
  mediaOrigins?: () => readonly string[];
}

/**
 * The apps' Content-Security-Policy. Scripts and styles come only from our origin: the pages have
 * no inline script or style (Preact and uPlot set styles through CSSOM, which CSP allows), so
 * neither needs 'unsafe-inline'. Connections go to this origin (API, /events) and the media
 * server's origin, which may differ from the page's. Videos play MediaStreams (srcObject), which
 * CSP does not govern; attachments are downloaded as blob: links, a navigation it does not govern
 * either. `data:` images: the pages' empty favicon.
 */
export function contentSecurityPolicy(options: SecurityHeaderOptions): string {
  const media = new URL(options.mediaPublicUrl);
  const origins = new Set([`${media.protocol}//${media.host}`, ...(options.mediaOrigins?.() ?? [])]);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${[...origins].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Camera, microphone and screen capture for our own pages only; nothing else a call does not need. */
export const PERMISSIONS_POLICY = 'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()';

/**
 * Headers on every answer. JSON answers get a policy that allows nothing (they are never a page);
 * the apps get theirs. HSTS is sent always: browsers ignore it over plain HTTP (RFC 6797 §8.1) and
 * keep it from the first answer over HTTPS, which behind a TLS proxy Koa cannot tell apart.
 */
export function securityHeaders(options: SecurityHeaderOptions): Middleware {
  let appPolicy = contentSecurityPolicy(options);
  let originCount = 0;
  return async (ctx, next) => {
    // The registry's nodes only ever add origins: rebuild the policy when their number changed.
    const count = options.mediaOrigins?.().length ?? 0;
    if (count !== originCount) {
      originCount = count;
      appPolicy = contentSecurityPolicy(options);
    }
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    ctx.set('strict-transport-security', 'max-age=31536000');
    ctx.set('permissions-policy', PERMISSIONS_POLICY);
    ctx.set('content-security-policy', ctx.path.startsWith('/api/') ? "default-src 'none'; frame-ancestors 'none'" : appPolicy);
    await next();
  };
}

import http from 'node:http';
import type { Duplex } from 'node:stream';

/** What the guard logs through: pino's loggers fit. */
export interface EdgeLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Handles an upgrade whose path matched; `url` is parsed already (path and query). */
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;

export interface RawError {
  status: number;
  /** The server's error code for the status (`{ error: { code, message } }`). */
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Answers on a socket no framework owns (a refused upgrade, a request Node's parser refused) with
 * the `{ error: { code, message } }` shape, then closes it.
 */
export function writeRawError(socket: Duplex, error: RawError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  const head = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
    ...error.headers,
  };
  socket.end(
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? 'Error'}\r\n${Object.entries(head)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n${body}`,
  );
  // A client that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 5000).unref();
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive'],
};

/** How long an idle keep-alive connection stays open, ms: longer than the proxy in front keeps one. */
export const KEEP_ALIVE_MS = 75_000;

export interface GuardOptions {
  logger: EdgeLogger;
  /** The server's error code for an HTTP status. */
  codeFor(status: number): string;
  /**
   * WebSocket endpoints by path: an upgrade elsewhere is answered 404. Without it, upgrades are left
   * to the server's own `upgrade` listeners (registered after this guard).
   */
  upgrades?: Record<string, UpgradeHandler>;
}

/**
 * Makes an HTTP server's edges safe: a request Node's parser refuses gets a 4xx in the error shape
 * (431, 408, 400) instead of Node's plain text; a socket error on an upgrade socket is logged and
 * ends that socket only (Node removes its own handler from upgrade sockets: without one, a reset
 * ends the process); an accept failure is logged instead of thrown.
 */
export function guardHttpServer(server: http.Server, options: GuardOptions): void {
  const { logger, codeFor } = options;
  // Idle keep-alive connections outlive a reverse proxy's (Caddy here keeps them 60 s): with Node's
  // 5 s, the server could close a connection just as the proxy sent a request on it, and Caddy 2.6
  // answers such a request that has a body 502 (it cannot resend it).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  const refuse = (socket: Duplex, status: number, message: string): void => writeRawError(socket, { status, code: codeFor(status), message });
  // After listen(), an accept failure (EMFILE under a connection flood) is an 'error' on the server.
  server.on('error', (err: NodeJS.ErrnoException) => logger.error({ code: err.code, err }, 'http server error'));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const code = error.code ?? 'UNKNOWN';
    // A reset or a socket already gone: there is nobody to answer.
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, message] = CLIENT_ERRORS[code] ?? [400, 'the request is malformed'];
    logger.info({ code, status }, 'malformed request refused');
    // After the response to this request began, only closing is left.
    const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (started) socket.destroy();
    else refuse(socket, status, message);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error: NodeJS.ErrnoException) => logger.info({ code: error.code }, 'upgrade socket error'));
    const upgrades = options.upgrades;
    if (!upgrades) return;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      refuse(socket, 400, 'the request target is not a valid path');
      return;
    }
    const handler = upgrades[url.pathname];
    if (handler) handler(req, socket, head, url);
    else refuse(socket, 404, `no WebSocket endpoint at ${url.pathname.slice(0, 200)}`);
  });
}

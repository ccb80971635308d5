import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';
import { errorBody, errorCodeFor } from './errors.js';

/** Handles an upgrade whose path matched; `url` is parsed already (path and query). */
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;

/**
 * Answers on a socket Koa does not own (a refused upgrade, a request Node's parser refused) with the
 * API's error shape, then closes it.
 */
export function writeRawError(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = errorBody(errorCodeFor(status), message);
  const lines = Object.entries({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', connection: 'close', ...headers });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n${lines.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
  // A client that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 5000).unref();
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive'],
};

/**
 * Makes the HTTP server's edges safe: a request Node's parser refuses gets a 4xx in the error shape
 * (431, 408, 400) instead of Node's plain text; an upgrade goes to the handler of its path or is
 * answered 404; a socket error on an upgrade socket is logged and ends that socket only.
 */
export function guardServer(server: http.Server, options: { logger: Logger; upgrades: Record<string, UpgradeHandler> }): void {
  const { logger } = options;
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
    else writeRawError(socket, status, message);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes its own error handler from upgrade sockets: without one, a reset ends the process.
    socket.on('error', (error: NodeJS.ErrnoException) => logger.info({ code: error.code }, 'upgrade socket error'));
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      writeRawError(socket, 400, 'the request target is not a valid path');
      return;
    }
    const handler = options.upgrades[url.pathname];
    if (handler) handler(req, socket, head, url);
    else writeRawError(socket, 404, `no WebSocket endpoint at ${url.pathname.slice(0, 200)}`);
  });
}

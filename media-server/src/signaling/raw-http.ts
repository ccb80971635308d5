import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';

/** The error codes of the media server's HTTP answers, by status. */
const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL',
  503: 'SERVICE_UNAVAILABLE',
};

/** `{ error: { code, message } }`, the body of every refusal. */
export function errorJson(status: number, message: string): { error: { code: string; message: string } } {
  return { error: { code: CODES[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL'), message } };
}

/** An error answer on a socket outside the HTTP response cycle (refused upgrade, unparsable request). */
export function writeSocketError(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(errorJson(status, message));
  const head = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', connection: 'close', ...headers };
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), 5000).unref();
}

/**
 * The HTTP server's edges: requests Node's parser refuses are answered in the error shape (431, 408,
 * 400); upgrade sockets get an error listener (Node removes its own) before anything else happens.
 */
export function guardHttpServer(server: http.Server, logger: Logger): void {
  // After listen(), an accept failure (EMFILE under a connection flood) is an 'error' on the server.
  server.on('error', (err: NodeJS.ErrnoException) => logger.error({ code: err.code, err }, 'http server error'));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const code = error.code ?? 'UNKNOWN';
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    logger.info({ code, status }, 'malformed request refused');
    if ((socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) socket.destroy();
    else writeSocketError(socket, status, status === 431 ? 'the request headers are too large' : 'the request is malformed');
  });
  // Registered first, so it runs before the upgrade handler.
  server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', (error: NodeJS.ErrnoException) => logger.info({ code: error.code }, 'upgrade socket error'));
  });
}

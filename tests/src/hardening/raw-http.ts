// HTTP/1.1 at the byte level: requests written by hand (lying lengths, broken framing, odd methods
// and targets) and a tolerant reader of the answer.
import { rawExchange } from './raw-ws.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server ended the connection (rather than the client timing out). */
  ended: boolean;
  raw: string;
}

export function parseResponse(raw: string, ended: boolean): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', ended, raw };
  const lines = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  let body = raw.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let decoded = '';
    for (let rest = body; ;) {
      const lineEnd = rest.indexOf('\r\n');
      const size = Number.parseInt(rest.slice(0, lineEnd), 16);
      if (!(size > 0)) break;
      decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  } else if (headers['content-length'] !== undefined) {
    body = body.slice(0, Number(headers['content-length']));
  }
  return { status: Number(lines[0]?.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8'), ended, raw };
}

/** Writes `bytes` on a fresh connection and reads the first answer (until the server closes, or `timeoutMs`). */
export async function rawRequest(target: { host: string; port: number }, bytes: Buffer | string, timeoutMs = 10_000): Promise<RawResponse> {
  const { response, ended } = await rawExchange(target, bytes, timeoutMs);
  return parseResponse(response, ended);
}

/** The `{ error: { code, message } }` shape, or undefined when the body is anything else. */
export function errorShape(body: string): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
  } catch {
    return undefined;
  }
}

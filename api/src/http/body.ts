import type { Context } from 'koa';
import { ApiError } from './errors.js';

/** Reads a JSON request body up to `limitBytes`, with clear 413/415/400 errors. */
export async function readJson(ctx: Context, limitBytes = 64 * 1024): Promise<unknown> {
  if (!ctx.is('application/json')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limitBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `the body is larger than ${limitBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `the body is larger than ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError('BAD_REQUEST', 'the body is not valid JSON');
  }
}

import busboy from 'busboy';
import type { Context } from 'koa';
import { ApiError } from '../http/errors.js';

export interface UploadedFile {
  fileName: string;
  data: Buffer;
}

export const MAX_FILE_NAME = 200;

const malformed = (): ApiError => new ApiError('BAD_REQUEST', 'the multipart body is malformed');

/**
 * A file name as stored and shown: what browsers send (raw UTF-8 in `filename="…"`, or RFC 5987
 * `filename*=UTF-8''…`, decoded by busboy) without control characters, path separators or quotes,
 * at most 200 characters (whole code points).
 */
export function cleanFileName(raw: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = (raw ?? '').normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f\\/"]/g, '_');
  return Array.from(cleaned).slice(0, MAX_FILE_NAME).join('').trim() || 'file';
}

/**
 * Reads the single `file` part of a multipart/form-data body, refusing anything over `maxBytes`.
 * Every way the body can go wrong (cut short, malformed, the client gone) rejects with a 4xx
 * ApiError; nothing is returned unless the whole body was read.
 */
export async function readSingleFile(ctx: Context, maxBytes: number): Promise<UploadedFile> {
  if (!ctx.is('multipart/form-data')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'upload the file as multipart/form-data with a part named "file"');
  const declared = Number(ctx.get('content-length') || 0);
  // The multipart framing adds a few hundred bytes to the file itself.
  if (declared > maxBytes + 16 * 1024) throw new ApiError('PAYLOAD_TOO_LARGE', `files are limited to ${maxBytes} bytes`);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: ctx.req.headers, defParamCharset: 'utf8', limits: { files: 1, fileSize: maxBytes, fields: 5, parts: 6, fieldSize: 64 * 1024 } });
  } catch {
    throw malformed();
  }
  const req = ctx.req;
  return new Promise<UploadedFile>((resolve, reject) => {
    let file: UploadedFile | undefined;
    let failure: ApiError | undefined;
    let settled = false;
    const fail = (error: ApiError): void => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      // Drain what the client still sends, so that the answer reaches it.
      req.resume();
      parser.removeAllListeners('file');
      parser.destroy();
      reject(error);
    };
    parser.on('file', (name, stream, info) => {
      // Both streams report a cut-short body; the parser's error answers, these must not throw.
      stream.on('error', () => fail(malformed()));
      if (name !== 'file' || file || failure) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => (failure = new ApiError('PAYLOAD_TOO_LARGE', `files are limited to ${maxBytes} bytes`)));
      stream.on('end', () => {
        if (!failure) file = { fileName: cleanFileName(info.filename), data: Buffer.concat(chunks) };
      });
    });
    parser.on('error', () => fail(malformed()));
    parser.on('close', () => {
      if (settled) return;
      if (failure) fail(failure);
      else if (!file) fail(new ApiError('VALIDATION_FAILED', 'no part named "file"', [{ path: 'file', message: 'required' }]));
      else {
        settled = true;
        resolve(file);
      }
    });
    req.on('error', () => fail(new ApiError('BAD_REQUEST', 'the request body was cut short')));
    req.on('close', () => {
      if (!req.complete) fail(new ApiError('BAD_REQUEST', 'the request body was cut short'));
    });
    req.pipe(parser);
  });
}

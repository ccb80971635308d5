import busboy from 'busboy';
import type { Context } from 'koa';
import { ApiError } from '../http/errors.js';

export interface UploadedFile {
  fileName: string;
  data: Buffer;
}

export const MAX_FILE_NAME = 200;

/** A file name as stored: path separators, quotes and control characters (NUL too) replaced, at most MAX_FILE_NAME characters (whole code points). */
function safeFileName(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it replaces
  return Array.from((name ?? '').replace(/[\\/"\u0000-\u001f\u007f]/g, '_')).slice(0, MAX_FILE_NAME).join('') || 'file';
}

/** Reads the single `file` part of a multipart/form-data body, refusing anything over `maxBytes`. */
export async function readSingleFile(ctx: Context, maxBytes: number): Promise<UploadedFile> {
  if (!ctx.is('multipart/form-data')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'upload the file as multipart/form-data with a part named "file"');
  const declared = Number(ctx.get('content-length') || 0);
  // The multipart framing adds a few hundred bytes to the file itself.
  if (declared > maxBytes + 16 * 1024) throw new ApiError('PAYLOAD_TOO_LARGE', `files are limited to ${maxBytes} bytes`);
  return new Promise<UploadedFile>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // defParamCharset: browsers send a file name's UTF-8 bytes as they are (busboy would read them as latin1).
      parser = busboy({ headers: ctx.req.headers, defParamCharset: 'utf8', limits: { files: 1, fileSize: maxBytes, fields: 5, parts: 6 } });
    } catch {
      reject(new ApiError('BAD_REQUEST', 'the multipart body is malformed'));
      return;
    }
    let file: UploadedFile | undefined;
    let failure: ApiError | undefined;
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || file) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => (failure = new ApiError('PAYLOAD_TOO_LARGE', `files are limited to ${maxBytes} bytes`)));
      stream.on('end', () => {
        const fileName = safeFileName(info.filename);
        file = { fileName, data: Buffer.concat(chunks) };
      });
    });
    parser.on('error', () => reject(new ApiError('BAD_REQUEST', 'the multipart body is malformed')));
    parser.on('close', () => {
      if (failure) reject(failure);
      else if (!file) reject(new ApiError('VALIDATION_FAILED', 'no part named "file"', [{ path: 'file', message: 'required' }]));
      else resolve(file);
    });
    ctx.req.pipe(parser);
  });
}

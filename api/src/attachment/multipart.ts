import busboy from 'busboy';
import type { Context } from 'koa';
import { ApiError } from '../http/errors.js';

export interface UploadedFile {
  fileName: string;
  data: Buffer;
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
      parser = busboy({ headers: ctx.req.headers, limits: { files: 1, fileSize: maxBytes, fields: 5, parts: 6 } });
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
        const fileName = (info.filename ?? 'file').replace(/[\\/\r\n"]/g, '_').slice(0, 200) || 'file';
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

import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { assertMember } from '../conversation/conversation.service.js';
import { ApiError } from '../http/errors.js';
import type { RouteRegistry } from '../http/route.js';
import { AttachmentSchema } from '../http/resource.schema.js';
import { Uuid } from '../http/input.schema.js';
import type { Attachment } from '@telemed/sdk';
import { findAttachment, insertAttachment, type AttachmentRow } from './attachment.repository.js';
import type { AttachmentStores } from './attachment-stores.js';
import { ALLOWED_TYPES, sniffContentType } from './content-type.js';
import { MAX_FILE_NAME, readSingleFile } from './multipart.js';

const PARTICIPANTS = ['patient', 'doctor'] as const;
const UploadForm = z.object({
  file: z.string().meta({
    contentMediaType: 'application/octet-stream',
    description: `The file. Its name (filename, or filename* in RFC 5987 form; UTF-8) is kept up to ${MAX_FILE_NAME} characters, with / \\ " and control characters replaced by _`,
  }),
});
const toAttachment = (row: AttachmentRow): Attachment => ({
  id: row.id,
  conversationId: row.conversation_id,
  fileName: row.file_name,
  contentType: row.content_type,
  sizeBytes: row.size_bytes,
  sha256: row.sha256,
  createdAt: row.created_at.toISOString(),
});

export function registerAttachmentRoutes(api: RouteRegistry, app: AppContext, storage: AttachmentStores): void {
  api.define({
    method: 'post',
    path: '/api/conversations/:id/attachments',
    tag: 'messaging',
    access: PARTICIPANTS,
    status: 201,
    summary: `Upload a file (multipart part "file", at most MAX_UPLOAD_SIZE bytes; ${ALLOWED_TYPES.join(', ')}, recognised by content) to a conversation; send it with a message's attachmentId`,
    params: z.object({ id: Uuid }),
    rawBody: { contentType: 'multipart/form-data', description: 'one part named "file"', schema: UploadForm },
    response: AttachmentSchema,
    handler: async ({ ctx, user, params }) => {
      await assertMember(app.db, params.id, user);
      const file = await readSingleFile(ctx, app.config.maxUploadBytes);
      if (file.data.length === 0) throw new ApiError('VALIDATION_FAILED', 'the file is empty', [{ path: 'file', message: 'empty' }]);
      const contentType = sniffContentType(file.data);
      if (!contentType) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `this kind of file is not accepted; allowed: ${ALLOWED_TYPES.join(', ')}`);
      const key = randomUUID();
      const stored = await storage.put(key, file.data);
      const row = await insertAttachment(app.db, {
        conversation_id: params.id,
        uploader_id: user.id,
        file_name: file.fileName,
        content_type: contentType,
        size_bytes: file.data.length,
        sha256: createHash('sha256').update(file.data).digest('hex'),
        storage_key: stored.key,
        key_id: stored.keyId,
        store: stored.store,
      });
      await app.auditLog.write(ctx, user.id, 'upload', 'attachment', row.id);
      return toAttachment(row);
    },
  });

  api.define({
    method: 'get',
    path: '/api/attachments/:id',
    tag: 'messaging',
    access: PARTICIPANTS,
    summary: 'Download an attachment (members of its conversation only)',
    produces: {
      contentTypes: ALLOWED_TYPES,
      description: "The file's bytes, with the content type recognised at upload, Content-Disposition (its name) and X-Content-SHA256",
    },
    params: z.object({ id: Uuid }),
    handler: async ({ ctx, user, params }) => {
      const row = await findAttachment(app.db, params.id);
      if (!row) throw new ApiError('NOT_FOUND', 'no such attachment');
      await assertMember(app.db, row.conversation_id, user).catch(() => {
        throw new ApiError('NOT_FOUND', 'no such attachment');
      });
      const data = await storage.get(row.store, { key: row.storage_key, keyId: row.key_id });
      await app.auditLog.write(ctx, user.id, 'download', 'attachment', row.id);
      const ascii = row.file_name.replace(/[^\x20-\x7e]/g, '_');
      ctx.set('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(row.file_name)}`);
      ctx.set('x-content-sha256', row.sha256);
      ctx.type = row.content_type;
      ctx.body = data;
    },
  });
}

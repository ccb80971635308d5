import type { Message } from '@telemed/sdk';
import type { Encryptor } from '../crypto/encryption.js';
import type { Db } from '../db/database.js';
import type { Outbox } from '../events/outbox.js';
import { ApiError } from '../http/errors.js';
import type { AuthUser } from '../http/route.js';
import { advancePointer, findMemberIds, recordSent } from '../conversation/conversation.repository.js';
import { assertMember } from '../conversation/conversation.service.js';
import { releaseNotification } from '../notification/notification.repository.js';
import { findMessage, findReceipts, insertMessageOnce, listMessages, upsertReceipts } from './message.repository.js';
import type { MessageRow } from './message.table.js';

// The conversation id is bound into the ciphertext (GCM additional data): a body copied into
// another conversation's row does not decrypt.
const aad = (conversationId: string): string => `message:${conversationId}`;

export class MessageService {
  readonly #encryptor: Encryptor;

  constructor(encryptor: Encryptor) {
    this.#encryptor = encryptor;
  }

  toMessage(row: MessageRow): Message {
    return {
      id: row.id,
      conversationId: row.conversation_id,
      senderId: row.sender_id,
      clientId: row.client_id,
      body: this.#encryptor.decrypt({ keyId: row.key_id, ciphertext: row.body_ciphertext }, aad(row.conversation_id)).toString('utf8'),
      attachmentId: row.attachment_id,
      createdAt: row.created_at.toISOString(),
    };
  }

  /** Idempotent on (conversation, sender, clientId): a retried send returns the stored message. */
  async send(trx: Db, outbox: Outbox, user: AuthUser, conversationId: string, input: { clientId: string; body: string; attachmentId?: string | undefined }): Promise<{ message: Message; created: boolean }> {
    // One read is both the membership check and the recipients.
    const members = await findMemberIds(trx, conversationId);
    if (!members.includes(user.id)) throw new ApiError('NOT_FOUND', 'no such conversation');
    if (input.attachmentId) {
      const attachment = await trx.selectFrom('attachments').select('conversation_id').where('id', '=', input.attachmentId).executeTakeFirst();
      if (attachment?.conversation_id !== conversationId) throw new ApiError('VALIDATION_FAILED', 'the attachment does not belong to this conversation', [{ path: 'attachmentId', message: 'unknown attachment' }]);
    }
    const encrypted = this.#encryptor.encrypt(input.body, aad(conversationId));
    const { row, created } = await insertMessageOnce(trx, { conversationId, senderId: user.id, clientId: input.clientId, ciphertext: encrypted.ciphertext, keyId: encrypted.keyId, attachmentId: input.attachmentId ?? null });
    const message = this.toMessage(row);
    if (created) {
      // The sender has read their own message.
      await recordSent(trx, conversationId, user.id, row.id, row.created_at);
      outbox.add(members, 'message.created', { message });
    }
    return { message, created };
  }

  async list(db: Db, user: AuthUser, conversationId: string, options: { before?: number | undefined; after?: number | undefined; limit: number }): Promise<{ items: Message[]; nextCursor: string | null }> {
    await assertMember(db, conversationId, user);
    const rows = await listMessages(db, conversationId, { ...options, limit: options.limit + 1 });
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return { items: page.map((r) => this.toMessage(r)), nextCursor: rows.length > options.limit && last ? String(last.id) : null };
  }

  /** Marks messages up to `upTo` delivered or read for the user, with per-message receipts. */
  async acknowledge(trx: Db, outbox: Outbox, user: AuthUser, conversationId: string, upTo: number, kind: 'delivered' | 'read'): Promise<void> {
    await assertMember(trx, conversationId, user);
    const message = await findMessage(trx, upTo);
    if (!message || message.conversation_id !== conversationId) throw new ApiError('NOT_FOUND', 'no such message in this conversation');
    const deliveredBefore = (await advancePointer(trx, conversationId, user.id, 'last_delivered_message_id', upTo)) ?? 0;
    const readBefore = kind === 'read' ? ((await advancePointer(trx, conversationId, user.id, 'last_read_message_id', upTo)) ?? 0) : upTo;
    const from = kind === 'read' ? readBefore : deliveredBefore;
    if (upTo <= from) return;
    await upsertReceipts(trx, conversationId, user.id, from, upTo, kind);
    // Read: a later unread message may be e-mailed about again.
    if (kind === 'read') await releaseNotification(trx, user.id, 'unread', conversationId);
    outbox.add(await findMemberIds(trx, conversationId), kind === 'read' ? 'message.read' : 'message.delivered', { conversationId, userId: user.id, upToMessageId: upTo });
  }

  async receipts(db: Db, user: AuthUser, conversationId: string, messageId: number): Promise<Array<{ userId: string; deliveredAt: string | null; readAt: string | null }>> {
    await assertMember(db, conversationId, user);
    const message = await findMessage(db, messageId);
    if (!message || message.conversation_id !== conversationId) throw new ApiError('NOT_FOUND', 'no such message in this conversation');
    return (await findReceipts(db, messageId)).map((r) => ({ userId: r.user_id, deliveredAt: r.delivered_at?.toISOString() ?? null, readAt: r.read_at?.toISOString() ?? null }));
  }
}

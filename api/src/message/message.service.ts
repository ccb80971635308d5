import type { Message } from '@telemed/sdk';
import type { Encryptor } from '../crypto/encryption.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/event.service.js';
import type { Outbox } from '../events/outbox.js';
import { ApiError } from '../http/errors.js';
import type { AuthUser } from '../http/route.js';
import { audit, auditEntry, type AuditOrigin } from '../audit/audit.service.js';
import { advancePointer, findMemberIds } from '../conversation/conversation.repository.js';
import { assertMember } from '../conversation/conversation.service.js';
import { releaseNotification } from '../notification/notification.repository.js';
import { findMessage, findReceipts, findSent, insertSent, listMessages, lockConversationMessages, planSend, upsertReceipts } from './message.repository.js';
import type { MessageRow } from './message.table.js';

// The conversation id is bound into the ciphertext (GCM additional data): a body copied into
// another conversation's row does not decrypt.
const aad = (conversationId: string): string => `message:${conversationId}`;

/** What one send needs, its body already encrypted (once for every attempt). */
interface SendRequest {
  events: EventService;
  origin: AuditOrigin;
  user: AuthUser;
  conversationId: string;
  input: { clientId: string; body: string; attachmentId?: string | undefined };
  encrypted: { ciphertext: string; keyId: string };
}

/** A send's result; `publish` tells the recipients of a new message (once its write has committed). */
interface SendOutcome {
  message: Message;
  created: boolean;
  publish?: () => Promise<void>;
}

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

  /**
   * Idempotent on (conversation, sender, clientId): a retried send returns the stored message.
   * Two statements, no transaction: one read (members, a new id, the time), then one that writes
   * the message with its side effects, audit row and events atomically (one commit); the events
   * are published after it. The write refuses an id that a parallel send's commit overtook (ids
   * commit in increasing order per conversation, so `after` paging never skips one). The send then
   * tries once more in a transaction that takes the conversation's message lock before it draws
   * its id: nothing can overtake it then. (Retrying without the lock, 24 sends at once beside a CPU
   * hog had sends overtaken five times in a row.)
   */
  async send(
    db: Db,
    events: EventService,
    origin: AuditOrigin,
    user: AuthUser,
    conversationId: string,
    input: { clientId: string; body: string; attachmentId?: string | undefined },
  ): Promise<{ message: Message; created: boolean }> {
    const request: SendRequest = { events, origin, user, conversationId, input, encrypted: this.#encryptor.encrypt(input.body, aad(conversationId)) };
    let sent = await this.#trySend(db, request);
    if (sent === 'stale') {
      const underLock = async (trx: Db): Promise<SendOutcome | 'stale'> => {
        await lockConversationMessages(trx, conversationId);
        return this.#trySend(trx, request);
      };
      sent = db.isTransaction ? await underLock(db) : await db.transaction().execute(underLock);
    }
    if (sent === 'stale') throw new ApiError('SERVICE_UNAVAILABLE', 'too many messages sent to this conversation at once; send again');
    // After the commit: a recipient told of the message finds it.
    await sent.publish?.();
    return { message: sent.message, created: sent.created };
  }

  /** One send: its id drawn, then its writes; 'stale' when a parallel send's commit overtook the id. Publishes nothing. */
  async #trySend(db: Db, { events, origin, user, conversationId, input, encrypted }: SendRequest): Promise<SendOutcome | 'stale'> {
    const plan = await planSend(db, conversationId, user.id, input.attachmentId ?? null);
    if (plan.id === null) throw new ApiError('NOT_FOUND', 'no such conversation');
    if (input.attachmentId) {
      // A file goes only where it was uploaded (its members may read it), and only its uploader sends it.
      if (plan.attachment?.conversationId !== conversationId)
        throw new ApiError('NOT_FOUND', 'no such attachment in this conversation', [
          { path: 'attachmentId', message: 'upload the file to this conversation first' },
        ]);
      if (plan.attachment.uploaderId !== user.id)
        throw new ApiError('FORBIDDEN', 'you can only send files you uploaded', [{ path: 'attachmentId', message: 'uploaded by someone else' }]);
    }
    const message: Message = {
      id: plan.id,
      conversationId,
      senderId: user.id,
      clientId: input.clientId,
      body: input.body,
      attachmentId: input.attachmentId ?? null,
      createdAt: plan.at.toISOString(),
    };
    const sealed = events.seal([{ userIds: plan.memberIds, type: 'message.created', payload: { message } }]);
    const written = await insertSent(
      db,
      {
        id: plan.id,
        at: plan.at,
        conversationId,
        senderId: user.id,
        clientId: input.clientId,
        ciphertext: encrypted.ciphertext,
        keyId: encrypted.keyId,
        attachmentId: message.attachmentId,
      },
      auditEntry(origin, user.id, 'create', 'message', []),
      sealed,
    );
    if (written.kind === 'stored') return { message, created: true, publish: () => events.publish(events.delivered(sealed, written.events)) };
    if (written.kind === 'stale') return 'stale';
    // A retry (or a parallel send that lost): the stored message, read.
    const existing = await findSent(db, conversationId, user.id, input.clientId);
    if (!existing) throw new ApiError('NOT_FOUND', 'no such conversation');
    await audit(db, origin, user.id, 'read', 'message', String(existing.id));
    return { message: this.toMessage(existing), created: false };
  }

  async list(
    db: Db,
    user: AuthUser,
    conversationId: string,
    options: { before?: number | undefined; after?: number | undefined; limit: number },
  ): Promise<{ items: Message[]; nextCursor: string | null }> {
    const rows = await listMessages(db, conversationId, { ...options, limit: options.limit + 1, memberId: user.id });
    // Empty: no messages there, or not a member (404).
    if (rows.length === 0) await assertMember(db, conversationId, user);
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
    outbox.add(await findMemberIds(trx, conversationId), kind === 'read' ? 'message.read' : 'message.delivered', {
      conversationId,
      userId: user.id,
      upToMessageId: upTo,
    });
  }

  async receipts(
    db: Db,
    user: AuthUser,
    conversationId: string,
    messageId: number,
  ): Promise<Array<{ userId: string; deliveredAt: string | null; readAt: string | null }>> {
    await assertMember(db, conversationId, user);
    const message = await findMessage(db, messageId);
    if (!message || message.conversation_id !== conversationId) throw new ApiError('NOT_FOUND', 'no such message in this conversation');
    return (await findReceipts(db, messageId)).map((r) => ({
      userId: r.user_id,
      deliveredAt: r.delivered_at?.toISOString() ?? null,
      readAt: r.read_at?.toISOString() ?? null,
    }));
  }
}

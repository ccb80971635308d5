import type { Conversation } from '@telemed/sdk';
import type { Db } from '../db/database.js';
import { ApiError } from '../http/errors.js';
import { encodeTimeIdCursor, type TimeIdCursor } from '../http/input.schema.js';
import type { AuthUser } from '../http/route.js';
import { assertContacts } from '../user/user.service.js';
import {
  findConversation,
  findDirectConversation,
  findMembers,
  insertConversation,
  isMember,
  listConversations,
  unreadCount,
  type ConversationWithUnread,
  type MemberRow,
} from './conversation.repository.js';

function toConversation(row: ConversationWithUnread, members: MemberRow[]): Conversation {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    createdAt: row.created_at.toISOString(),
    lastMessageAt: row.last_message_at?.toISOString() ?? null,
    unreadCount: row.unread_count,
    members: members
      .filter((m) => m.conversation_id === row.id)
      .map((m) => ({
        userId: m.user_id,
        displayName: m.display_name,
        role: m.role,
        lastReadMessageId: m.last_read_message_id,
        lastDeliveredMessageId: m.last_delivered_message_id,
      })),
  };
}

/** 404 unless the user is a member: conversations of others do not exist for them. */
export async function assertMember(db: Db, conversationId: string, user: AuthUser): Promise<void> {
  if (!(await isMember(db, conversationId, user.id))) throw new ApiError('NOT_FOUND', 'no such conversation');
}

export async function createConversation(
  trx: Db,
  user: AuthUser,
  input: { kind: 'direct' | 'group'; memberIds: string[]; title?: string | undefined },
): Promise<{ conversation: Conversation; created: boolean }> {
  const others = await assertContacts(trx, user, input.memberIds);
  if (input.kind === 'direct') {
    if (others.length !== 1)
      throw new ApiError('VALIDATION_FAILED', 'a direct conversation has exactly one other member', [{ path: 'memberIds', message: 'name one user' }]);
    const existing = await findDirectConversation(trx, user.id, others[0]!.id);
    if (existing) return { conversation: await getConversation(trx, user, existing.id), created: false };
  }
  const row = await insertConversation(trx, {
    kind: input.kind,
    title: input.title ?? null,
    createdBy: user.id,
    memberIds: [user.id, ...others.map((o) => o.id)],
  });
  return { conversation: await getConversation(trx, user, row.id), created: true };
}

export async function getConversation(db: Db, user: AuthUser, id: string): Promise<Conversation> {
  await assertMember(db, id, user);
  const row = await findConversation(db, id);
  if (!row) throw new ApiError('NOT_FOUND', 'no such conversation');
  return toConversation({ ...row, unread_count: await unreadCount(db, id, user.id) }, await findMembers(db, [id]));
}

export async function listForUser(db: Db, user: AuthUser, limit: number, before?: TimeIdCursor): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const rows = await listConversations(db, user.id, limit + 1, before);
  const page = rows.slice(0, limit);
  const members = await findMembers(
    db,
    page.map((r) => r.id),
  );
  const items = page.map((r) => toConversation(r, members));
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeTimeIdCursor(last.lastMessageAt ?? last.createdAt, last.id) : null };
}

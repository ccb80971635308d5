import type { Generated, Selectable } from 'kysely';

export type ConversationKind = 'direct' | 'group' | 'call';

export interface ConversationTable {
  id: Generated<string>;
  kind: ConversationKind;
  title: string | null;
  created_by: string;
  created_at: Generated<Date>;
  last_message_at: Date | null;
}

export interface ConversationMemberTable {
  conversation_id: string;
  user_id: string;
  joined_at: Generated<Date>;
  last_delivered_message_id: Generated<number>;
  last_read_message_id: Generated<number>;
}

export type ConversationRow = Selectable<ConversationTable>;

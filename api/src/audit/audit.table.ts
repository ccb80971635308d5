import type { Generated } from 'kysely';

export interface AuditLogTable {
  id: Generated<number>;
  actor_id: string | null;
  action: string;
  entity_type: string;
  /** The record, or '*' when the row covers several records: then they are in entity_ids. */
  entity_id: string;
  /** The records of a request that read several at once (a page); null for one record. */
  entity_ids: string[] | null;
  ip: string | null;
  request_id: string | null;
  at: Generated<Date>;
}

export interface NotificationSentTable {
  user_id: string;
  kind: string;
  ref_id: string;
  sent_at: Generated<Date>;
}

import type { Generated } from 'kysely';

export interface AuditLogTable {
  id: Generated<number>;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string;
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

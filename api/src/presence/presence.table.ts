import type { Generated, Selectable } from 'kysely';

export type PresenceStatus = 'online' | 'away' | 'busy' | 'in_call' | 'offline';

export interface PresenceTable {
  user_id: string;
  status: PresenceStatus;
  manual_status: 'away' | 'busy' | null;
  connections: Generated<number>;
  in_call: Generated<boolean>;
  last_seen_at: Date | null;
  updated_at: Generated<Date>;
}

export type PresenceRow = Selectable<PresenceTable>;

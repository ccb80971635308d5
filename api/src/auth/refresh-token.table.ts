import type { Generated, Selectable } from 'kysely';

export interface RefreshTokenTable {
  id: Generated<string>;
  user_id: string;
  family_id: string;
  token_hash: string;
  created_at: Generated<Date>;
  last_used_at: Generated<Date>;
  expires_at: Date;
  revoked_at: Date | null;
  replaced_by: string | null;
}

export type RefreshTokenRow = Selectable<RefreshTokenTable>;

import type { Generated } from 'kysely';

export interface ApiKeyTable {
  id: Generated<string>;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string[];
  created_by: string;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

import type { Generated } from 'kysely';

export interface UserEventTable {
  id: Generated<number>;
  user_id: string;
  type: string;
  payload_ciphertext: string;
  key_id: string;
  created_at: Generated<Date>;
}

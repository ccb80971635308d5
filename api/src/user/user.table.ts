import type { Generated, Selectable } from 'kysely';
import type { Role } from '@telemed/sdk';

export type { Role };

export interface UserTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  role: Role;
  display_name: string;
  created_at: Generated<Date>;
  disabled_at: Date | null;
}

export interface CareRelationshipTable {
  doctor_id: string;
  patient_id: string;
  created_at: Generated<Date>;
}

export type UserRow = Selectable<UserTable>;

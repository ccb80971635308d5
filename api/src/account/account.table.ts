import type { Generated, Selectable } from 'kysely';

export type InvitationPurpose = 'invite' | 'reset';

/** A one-time link by which a person sets their password: only its SHA-256 is stored. */
export interface AccountInvitationTable {
  id: Generated<string>;
  user_id: string;
  token_hash: string;
  purpose: InvitationPurpose;
  created_by: string | null;
  created_at: Generated<Date>;
  expires_at: Date;
  used_at: Date | null;
}

export interface CareTeamTable {
  id: Generated<string>;
  name: string;
  created_at: Generated<Date>;
}

export interface CareTeamDoctorTable {
  team_id: string;
  doctor_id: string;
}

export interface CareTeamPatientTable {
  team_id: string;
  patient_id: string;
}

export type AccountInvitationRow = Selectable<AccountInvitationTable>;

import type { Generated } from 'kysely';

export interface MediaEventAppliedTable {
  room_id: string;
  seq: number;
  type: string;
  applied_at: Generated<Date>;
}

import type { ColumnType, Generated } from 'kysely';

export interface MediaEventAppliedTable {
  room_id: string;
  /** The room instance (bigint: read back as a string). */
  epoch: ColumnType<string, number, never>;
  seq: number;
  type: string;
  applied_at: Generated<Date>;
}

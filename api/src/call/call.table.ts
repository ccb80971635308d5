import type { ColumnType, Generated, Selectable } from 'kysely';
import type { CallParticipantStatus, CallStatus, CallType, QualitySummary } from '@telemed/sdk';

export type { CallStatus, CallType, QualitySummary };
export type ParticipantStatus = CallParticipantStatus;

export interface CallTable {
  id: Generated<string>;
  type: CallType;
  status: CallStatus;
  initiator_id: string;
  conversation_id: string | null;
  created_at: Generated<Date>;
  ring_expires_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  end_reason: string | null;
  quality_summary: ColumnType<QualitySummary | null, string | null, string | null>;
  scheduled_for: ColumnType<Date | null, Date | null | undefined, Date | null>;
  title: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface CallParticipantTable {
  call_id: string;
  user_id: string;
  role: 'initiator' | 'invitee';
  status: ParticipantStatus;
  invited_at: Generated<Date>;
  accepted_at: Date | null;
  left_at: Date | null;
  media_joined_at: Date | null;
  media_left_at: Date | null;
  media_seconds: Generated<number>;
}

export type CallRow = Selectable<CallTable>;
export type CallParticipantRow = Selectable<CallParticipantTable>;

export interface CallTimelineTable {
  id: Generated<number>;
  call_id: string;
  at: Generated<Date>;
  user_id: string | null;
  kind: string;
  detail: string | null;
}

import type { Kysely, Transaction } from 'kysely';
import type { AccountInvitationTable, CareTeamDoctorTable, CareTeamPatientTable, CareTeamTable } from '../account/account.table.js';
import type { ApiKeyTable } from '../api-key/api-key.table.js';
import type { AuditLogTable, NotificationSentTable } from '../audit/audit.table.js';
import type { RefreshTokenTable } from '../auth/refresh-token.table.js';
import type { CallParticipantTable, CallTable, CallTimelineTable } from '../call/call.table.js';
import type { ConversationMemberTable, ConversationTable } from '../conversation/conversation.table.js';
import type { UserEventTable } from '../events/user-event.table.js';
import type { MediaEventAppliedTable } from '../media-events/media-event.table.js';
import type { AttachmentTable, MessageReceiptTable, MessageTable } from '../message/message.table.js';
import type { PresenceTable } from '../presence/presence.table.js';
import type { CallQualitySampleTable } from '../quality/quality.table.js';
import type { CareRelationshipTable, UserTable } from '../user/user.table.js';
import type { WebhookDeliveryTable, WebhookEndpointTable } from '../webhook/webhook.table.js';
import type { CallRecordingConsentTable, CallRecordingTable } from '../recording/recording.table.js';

export interface Database {
  users: UserTable;
  care_relationships: CareRelationshipTable;
  care_teams: CareTeamTable;
  care_team_doctors: CareTeamDoctorTable;
  care_team_patients: CareTeamPatientTable;
  account_invitations: AccountInvitationTable;
  refresh_tokens: RefreshTokenTable;
  conversations: ConversationTable;
  conversation_members: ConversationMemberTable;
  messages: MessageTable;
  message_receipts: MessageReceiptTable;
  attachments: AttachmentTable;
  calls: CallTable;
  call_participants: CallParticipantTable;
  call_timeline: CallTimelineTable;
  call_quality_samples: CallQualitySampleTable;
  media_events_applied: MediaEventAppliedTable;
  presence: PresenceTable;
  user_events: UserEventTable;
  audit_log: AuditLogTable;
  notifications_sent: NotificationSentTable;
  call_recordings: CallRecordingTable;
  call_recording_consents: CallRecordingConsentTable;
  api_keys: ApiKeyTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
}

/** What repository functions take: the database or a transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

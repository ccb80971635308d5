// What the dashboard needs from the platform. `telemed-admin-backend.ts` implements it with the
// SDK's TelemedClient; the views depend on this port only.
import type {
  AdminUser,
  ApiKey,
  ApiKeyScope,
  AuditRow,
  Call,
  CallRecording,
  CallStatus,
  CallTimelineEntry,
  CallType,
  CareRelationship,
  CareTeam,
  Invitation,
  Page,
  Presence,
  QualitySample,
  Role,
  User,
  Webhook,
  WebhookDelivery,
} from '@telemed/sdk';

export interface CallFilter {
  status?: CallStatus;
  type?: CallType;
  /** ISO date-times. */
  from?: string;
  to?: string;
}

export interface LiveQuality {
  callId: string;
  samples: QualitySample[];
}

export interface AuditFilter {
  entityId?: string;
  actorId?: string;
  action?: string;
  /** ISO date-times. */
  from?: string;
  to?: string;
}

/** API keys and webhook endpoints for third-party backends (admin routes). */
export interface DevelopersBackend {
  apiKeys(): Promise<ApiKey[]>;
  /** The answer's `secret` is shown once: the server keeps only its hash. */
  createApiKey(input: { name: string; scopes: ApiKeyScope[] }): Promise<{ apiKey: ApiKey; secret: string }>;
  revokeApiKey(keyId: string): Promise<ApiKey>;
  webhooks(): Promise<Webhook[]>;
  /** The answer's `secret` (the signing secret) is shown once. */
  registerWebhook(input: { url: string; description?: string; eventTypes: string[] }): Promise<{ webhook: Webhook; secret: string }>;
  disableWebhook(webhookId: string): Promise<Webhook>;
  /** Deletes the endpoint with its delivery log. */
  deleteWebhook(webhookId: string): Promise<void>;
  webhookDeliveries(webhookId: string): Promise<WebhookDelivery[]>;
  /** Sends a signed webhook.ping; it appears in the delivery log. */
  testWebhook(webhookId: string): Promise<WebhookDelivery>;
  redeliver(webhookId: string, deliveryId: string): Promise<WebhookDelivery>;
}

/** Account management, care relationships and the audit log (admin routes). */
export interface AccountsBackend {
  accounts(search?: string): Promise<AdminUser[]>;
  createAccount(input: { email: string; displayName: string; role: Role }): Promise<{ user: AdminUser; invitation: Invitation }>;
  editAccount(userId: string, patch: { displayName?: string; role?: Role }): Promise<AdminUser>;
  setDisabled(userId: string, disabled: boolean): Promise<AdminUser>;
  resetPassword(userId: string): Promise<Invitation>;
  careRelationships(): Promise<CareRelationship[]>;
  link(doctorId: string, patientId: string): Promise<void>;
  unlink(doctorId: string, patientId: string): Promise<void>;
  careTeams(): Promise<CareTeam[]>;
  createTeam(name: string): Promise<CareTeam>;
  deleteTeam(teamId: string): Promise<void>;
  addMember(teamId: string, userId: string): Promise<CareTeam>;
  removeMember(teamId: string, userId: string): Promise<void>;
  audit(filter: AuditFilter, page: { cursor?: string; limit: number }): Promise<Page<AuditRow>>;
}

export interface AdminBackend extends AccountsBackend, DevelopersBackend {
  readonly user: User | undefined;
  resume(): Promise<User | undefined>;
  login(email: string, password: string): Promise<User>;
  logout(): Promise<void>;
  calls(filter: CallFilter, page: { cursor?: string; limit: number }): Promise<Page<Call>>;
  call(callId: string): Promise<Call>;
  timeline(callId: string): Promise<CallTimelineEntry[]>;
  quality(callId: string): Promise<QualitySample[]>;
  /** The call's recordings (empty when the installation does not record calls). */
  recordings(callId: string): Promise<CallRecording[]>;
  /** A ready recording's file (the download is audited). */
  downloadRecording(recordingId: string): Promise<Blob>;
  liveQuality(): Promise<LiveQuality[]>;
  users(): Promise<User[]>;
  /** Undefined when the server offers admins no presence view. */
  presence(userIds: string[]): Promise<Presence[] | undefined>;
}

/** Every page of a filtered history (for exports and counts), up to `max` calls. */
export async function allCalls(backend: AdminBackend, filter: CallFilter, max = 5000): Promise<Call[]> {
  const out: Call[] = [];
  let cursor: string | undefined;
  do {
    const page = await backend.calls(filter, { limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
}

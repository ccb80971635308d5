// What the dashboard needs from the platform. `telemed-admin-backend.ts` implements it with the
// SDK's TelemedClient; the views depend on this port only.
import type { Call, CallRecording, CallStatus, CallTimelineEntry, CallType, Page, Presence, QualitySample, User } from '@telemed/sdk';

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

export interface AdminBackend {
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

import type { Generated, Selectable } from 'kysely';
import type { RecordingState } from '@telemed/sdk';
import type { StoreName } from '../attachment/attachment.storage.js';

export interface CallRecordingTable {
  id: Generated<string>;
  call_id: string;
  requested_by: string;
  state: RecordingState;
  created_at: Generated<Date>;
  started_at: Date | null;
  stopped_at: Date | null;
  duration_ms: number | null;
  size_bytes: number | null;
  sha256: string | null;
  storage_key: string | null;
  key_id: string | null;
  store: StoreName | null;
  /** RecordingGap[] from the media server's manifest. */
  gaps: Generated<Array<{ trackId: string; fromMs: number; toMs: number }>>;
  /** The media server's RecordingManifest (tracks, codecs, whether muxing transcoded). */
  manifest: unknown;
  expires_at: Date | null;
}

/** One participant's answer to one recording request. */
export interface CallRecordingConsentTable {
  recording_id: string;
  call_id: string;
  user_id: string;
  decision: 'granted' | 'refused';
  decided_at: Generated<Date>;
}

export type CallRecordingRow = Selectable<CallRecordingTable>;
export type CallRecordingConsentRow = Selectable<CallRecordingConsentTable>;

import type { Generated, Selectable } from 'kysely';

export interface CallQualitySampleTable {
  id: Generated<number>;
  call_id: string;
  source: 'server' | 'client';
  identity: string;
  track_id: string;
  direction: 'in' | 'out';
  kind: string;
  sampled_at: Date;
  score: number | null;
  bitrate_bps: number;
  packets_lost: number;
  loss_ratio: number | null;
  jitter_ms: number | null;
  rtt_ms: number | null;
  frames_per_second: number | null;
  frame_width: number | null;
  frame_height: number | null;
}

export type CallQualitySampleRow = Selectable<CallQualitySampleTable>;

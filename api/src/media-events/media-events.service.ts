import type { Transaction } from 'kysely';
import type { Insertable } from 'kysely';
import type { MediaEvent } from '@telemed/sdk/protocol';
import type { CallService } from '../call/call.service.js';
import { findCall } from '../call/call.repository.js';
import type { Database } from '../db/database.js';
import type { Outbox } from '../events/outbox.js';
import { insertSamples } from '../quality/quality.repository.js';
import type { CallQualitySampleTable } from '../quality/quality.table.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ApplyResult = 'applied' | 'duplicate' | 'ignored';

export interface ApplyOptions {
  /** Another media node takes rooms: a room closed by its node's shutdown moves there, the call goes on. */
  roomsMoveOnShutdown?: boolean;
}

/**
 * Applies one media server event to the call records, once: (roomId, epoch, seq) is recorded in the
 * same transaction, so a retried batch changes nothing. The room id is the call id; the epoch tells
 * a room rebuilt after its worker died (seq from 1 again) from the instance before it.
 */
export async function applyMediaEvent(
  trx: Transaction<Database>,
  outbox: Outbox,
  calls: CallService,
  event: MediaEvent,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const inserted = await trx
    .insertInto('media_events_applied')
    .values({ room_id: event.roomId, epoch: event.epoch, seq: event.seq, type: event.type })
    .onConflict((oc) => oc.columns(['room_id', 'epoch', 'seq']).doNothing())
    .returning('seq')
    .executeTakeFirst();
  if (!inserted) return 'duplicate';
  if (!UUID.test(event.roomId)) return 'ignored'; // a development room (dev room tokens), not a call
  const call = await findCall(trx, event.roomId, true);
  if (!call) return 'ignored';
  const at = new Date(event.at);
  switch (event.type) {
    case 'participant_joined':
      return (await calls.mediaJoined(trx, outbox, call, event.identity, at)) ? 'applied' : 'ignored';
    case 'participant_left':
      return (await calls.mediaLeft(trx, outbox, call, event.identity, event.reason, at)) ? 'applied' : 'ignored';
    case 'participant_reconnected':
      return (await calls.mediaReconnected(trx, call, event.identity, event, at)) ? 'applied' : 'ignored';
    case 'room_finished': {
      // The media server rebuilds a room whose worker died and its participants rejoin by themselves:
      // the call goes on (their participant_left/joined events say who is in the room meanwhile).
      // So does a room whose node stopped while other nodes run (the participants move with their access refresher).
      if (call.status !== 'active' || event.reason === 'worker_died' || (event.reason === 'shutdown' && options.roomsMoveOnShutdown)) return 'ignored';
      await calls.finish(trx, outbox, call, `room_${event.reason}`);
      return 'applied';
    }
    case 'track_stats': {
      const rows: Insertable<CallQualitySampleTable>[] = event.samples.map((s) => ({
        call_id: call.id,
        source: 'server',
        identity: s.identity,
        track_id: s.trackId,
        direction: s.direction,
        kind: s.kind,
        sampled_at: new Date(s.sampledAt),
        score: s.score,
        bitrate_bps: s.bitrateBps,
        packets_lost: s.packetsLost,
        loss_ratio: s.lossRatio,
        jitter_ms: s.jitterMs,
        rtt_ms: s.rttMs,
        frames_per_second: null,
        frame_width: null,
        frame_height: null,
      }));
      await insertSamples(trx, rows);
      return 'applied';
    }
    default:
      return 'applied'; // room_started, track_published/unpublished: recorded for idempotency only
  }
}

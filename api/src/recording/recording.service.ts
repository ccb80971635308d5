import { webhookRecording } from '../webhook/webhook.service.js';
import { createHash, randomUUID } from 'node:crypto';
import type { Call, CallRecording, RecordingState } from '@telemed/sdk';
import type { RecordingManifest } from '@telemed/sdk/protocol';
import type { AttachmentStores } from '../attachment/attachment-stores.js';
import { audit, type AuditOrigin } from '../audit/audit.service.js';
import type { CallService } from '../call/call.service.js';
import type { Db } from '../db/database.js';
import type { Outbox } from '../events/outbox.js';
import { ApiError } from '../http/errors.js';
import type { AuthUser } from '../http/route.js';
import type { Logger } from '../logger.js';
import type { Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import { MediaRecordingError, type MediaRecordingClient } from './media-recording.client.js';
import {
  claimExpiredRecordings,
  findConsents,
  findOpenRecording,
  findRecording,
  insertRecording,
  listRecordings,
  updateRecording,
  upsertConsent,
} from './recording.repository.js';
import type { CallRecordingConsentRow, CallRecordingRow } from './recording.table.js';

/** Matroska (EBML) files start with these bytes. */
const EBML_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);

export interface RecordingSettings {
  enabled: boolean;
  /** Ready recordings are deleted this many days after they were stored; undefined keeps them. */
  retentionDays?: number | undefined;
}

type Transact = <T>(work: (trx: Transaction<Database>, outbox: Outbox) => Promise<T>) => Promise<T>;

export interface RecordingServiceOptions {
  settings: RecordingSettings;
  calls: CallService;
  media: MediaRecordingClient;
  storage: AttachmentStores;
  transact: Transact;
  db: Db;
  logger: Logger;
}

function toRecording(row: CallRecordingRow, consents: readonly CallRecordingConsentRow[], call: Call | undefined): CallRecording {
  const mine = consents.filter((c) => c.recording_id === row.id);
  const decided = new Set(mine.map((c) => c.user_id));
  const open = row.state === 'awaiting_consent' || row.state === 'recording' || row.state === 'paused';
  return {
    id: row.id,
    callId: row.call_id,
    state: row.state,
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    stoppedAt: row.stopped_at?.toISOString() ?? null,
    consents: mine.map((c) => ({ userId: c.user_id, decision: c.decision, decidedAt: c.decided_at.toISOString() })),
    waitingFor: open && call ? call.participants.filter((p) => p.inRoom && !decided.has(p.userId)).map((p) => p.userId) : [],
    durationSeconds: row.duration_ms === null ? null : Math.round(row.duration_ms / 100) / 10,
    sizeBytes: row.size_bytes,
    gaps: row.gaps.map(({ fromMs, toMs }) => ({ fromMs, toMs })),
    expiresAt: row.expires_at?.toISOString() ?? null,
  };
}

/**
 * Call recording with consent. The rule: a recording records only while everyone in the call's
 * media room has consented. It waits until all present have consented before it starts; someone
 * who joins later pauses it until they consent (the media server pauses it on its own the moment
 * they join); a refusal before the start ends the request, a refusal later keeps it paused while
 * the one who refused is in the room. The doctor who asks consents by asking; a doctor of the call
 * stops it. Every answer is stored per recording and participant and written to the audit log.
 */
export class RecordingService {
  readonly #options: RecordingServiceOptions;
  /** Per call: the media commands in flight, so they reach the media server in order. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Recordings the media server has taken a `recording` command for (from this instance). */
  readonly #atMedia = new Set<string>();
  #retentionTimer: NodeJS.Timeout | undefined;

  constructor(options: RecordingServiceOptions) {
    this.#options = options;
  }

  #assertEnabled(): void {
    if (!this.#options.settings.enabled) throw new ApiError('NOT_FOUND', 'call recording is not enabled on this installation (ENABLE_CALL_RECORDING)');
  }

  async #view(db: Db, row: CallRecordingRow, call?: Call): Promise<CallRecording> {
    return toRecording(row, await findConsents(db, [row.id]), call ?? (await this.#options.calls.load(db, row.call_id)));
  }

  /** A doctor who is an accepted participant of the running call; 403 otherwise. */
  #assertDoctorIn(call: Call, user: AuthUser): void {
    const me = call.participants.find((p) => p.userId === user.id);
    if (user.role !== 'doctor' || me?.status !== 'accepted')
      throw new ApiError('FORBIDDEN', 'only a doctor taking part in the call may start or stop its recording');
    if (call.status !== 'active') throw new ApiError('CONFLICT', 'the call is not running');
  }

  /** A doctor in the call asks to record it: everyone present is asked (their request is their consent). */
  async request(origin: AuditOrigin, user: AuthUser, callId: string): Promise<CallRecording> {
    this.#assertEnabled();
    const recording = await this.#options.transact(async (trx, outbox) => {
      const call = await this.#options.calls.loadVisible(trx, user, callId);
      this.#assertDoctorIn(call, user);
      if (await findOpenRecording(trx, call.id, true)) throw new ApiError('CONFLICT', 'a recording of this call is already asked for or running');
      const row = await insertRecording(trx, {
        id: randomUUID(),
        call_id: call.id,
        requested_by: user.id,
        state: 'awaiting_consent',
        started_at: null,
        stopped_at: null,
        duration_ms: null,
        size_bytes: null,
        sha256: null,
        storage_key: null,
        key_id: null,
        store: null,
        manifest: null,
        expires_at: null,
      });
      await upsertConsent(trx, { recording_id: row.id, call_id: call.id, user_id: user.id, decision: 'granted' });
      await audit(trx, origin, user.id, 'create', 'recording', row.id);
      await audit(trx, origin, user.id, 'consent', 'recording', row.id);
      return this.#evaluate(trx, outbox, row, call);
    });
    await this.#sync(recording.callId);
    return this.#currentOrFail(user, callId);
  }

  /** A participant consents or refuses; both are stored and audited. */
  async answer(origin: AuditOrigin, user: AuthUser, callId: string, granted: boolean): Promise<CallRecording> {
    this.#assertEnabled();
    await this.#options.transact(async (trx, outbox) => {
      const call = await this.#options.calls.loadVisible(trx, user, callId);
      if (!call.participants.some((p) => p.userId === user.id)) throw new ApiError('NOT_FOUND', 'no such call');
      const row = await findOpenRecording(trx, call.id, true);
      if (!row) throw new ApiError('CONFLICT', 'no recording of this call is waiting for an answer');
      await upsertConsent(trx, { recording_id: row.id, call_id: call.id, user_id: user.id, decision: granted ? 'granted' : 'refused' });
      await audit(trx, origin, user.id, granted ? 'consent' : 'refuse', 'recording', row.id);
      return this.#evaluate(trx, outbox, row, call);
    });
    await this.#sync(callId);
    return this.#currentOrFail(user, callId);
  }

  /** A doctor of the call stops the recording (or withdraws the request before it started). */
  async stop(origin: AuditOrigin, user: AuthUser, callId: string): Promise<CallRecording> {
    this.#assertEnabled();
    const stopped = await this.#options.transact(async (trx, outbox) => {
      const call = await this.#options.calls.loadVisible(trx, user, callId);
      this.#assertDoctorIn(call, user);
      const row = await findOpenRecording(trx, call.id, true);
      if (!row) throw new ApiError('CONFLICT', 'this call is not being recorded');
      const next = await updateRecording(trx, row.id, { state: row.started_at ? 'processing' : 'cancelled', stopped_at: new Date() });
      await audit(trx, origin, user.id, 'update', 'recording', row.id);
      await this.#announce(trx, outbox, next, call);
      return next;
    });
    if (stopped.started_at) await this.#stopAtMedia(stopped.call_id, stopped.id);
    return this.#view(this.#options.db, (await findRecording(this.#options.db, stopped.id))!);
  }

  /** The call changed (someone joined or left the media room, it ended): the rule is applied again. */
  async callChanged(call: Call): Promise<void> {
    if (!this.#options.settings.enabled) return;
    const changed = await this.#options.transact(async (trx, outbox) => {
      const row = await findOpenRecording(trx, call.id, true);
      if (!row) return undefined;
      return this.#evaluate(trx, outbox, row, await this.#options.calls.load(trx, call.id));
    });
    if (!changed) return;
    if (changed.state === 'processing') await this.#stopAtMedia(changed.callId, changed.id);
    else await this.#sync(call.id);
  }

  /** Applies the rule to an open recording inside the transaction, and tells the participants of any change. */
  async #evaluate(trx: Db, outbox: Outbox, row: CallRecordingRow, call: Call): Promise<CallRecording> {
    const consents = await findConsents(trx, [row.id]);
    const granted = new Set(consents.filter((c) => c.decision === 'granted').map((c) => c.user_id));
    const refused = new Set(consents.filter((c) => c.decision === 'refused').map((c) => c.user_id));
    const present = call.participants.filter((p) => p.inRoom).map((p) => p.userId);
    const everyone = present.length > 0 && present.every((u) => granted.has(u));
    let state: RecordingState = row.state;
    const now = new Date();
    const values: { state?: RecordingState; started_at?: Date; stopped_at?: Date } = {};
    if (call.status !== 'active') {
      state = row.started_at ? 'processing' : 'cancelled';
      values.stopped_at = now;
    } else if (row.state === 'awaiting_consent') {
      if (present.some((u) => refused.has(u))) {
        state = 'refused';
        values.stopped_at = now;
      } else if (everyone) {
        state = 'recording';
        values.started_at = now;
      }
    } else {
      state = everyone ? 'recording' : 'paused';
    }
    let next = row;
    if (state !== row.state || values.started_at) next = await updateRecording(trx, row.id, { ...values, state });
    const view = toRecording(next, consents, call);
    outbox.add(
      call.participants.map((p) => p.userId),
      'recording.updated',
      { recording: view },
    );
    outbox.webhook('recording.updated', { recording: webhookRecording(view) });
    return view;
  }

  async #announce(trx: Db, outbox: Outbox, row: CallRecordingRow, call?: Call): Promise<CallRecording> {
    const loaded = call ?? (await this.#options.calls.load(trx, row.call_id));
    const view = await this.#view(trx, row, loaded);
    outbox.add(
      loaded.participants.map((p) => p.userId),
      'recording.updated',
      { recording: view },
    );
    outbox.webhook('recording.updated', { recording: webhookRecording(view) });
    return view;
  }

  /** Runs `work` after the call's earlier media commands, so they reach the media server in order. */
  #serial(callId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(callId) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => undefined);
    this.#chains.set(callId, settled);
    void settled.then(() => {
      if (this.#chains.get(callId) === settled) this.#chains.delete(callId);
    });
    return next;
  }

  /** Tells the media server the open recording's wanted state (the latest, read inside the queue). */
  #sync(callId: string): Promise<void> {
    return this.#serial(callId, async () => {
      const row = await findOpenRecording(this.#options.db, callId);
      if (!row || (row.state !== 'recording' && row.state !== 'paused')) return;
      const consents = await findConsents(this.#options.db, [row.id]);
      const identities = consents.filter((c) => c.decision === 'granted').map((c) => c.user_id);
      try {
        await this.#options.media.apply(callId, { recordingId: row.id, state: row.state, identities });
        this.#atMedia.add(row.id);
      } catch (error) {
        const consentMissing = error instanceof MediaRecordingError && error.code === 'CONSENT_REQUIRED';
        // Someone joined whom the API has not heard of yet: wait for them (their join event re-runs the rule).
        const state: RecordingState = consentMissing ? (this.#atMedia.has(row.id) ? 'paused' : 'awaiting_consent') : 'failed';
        if (!consentMissing) this.#options.logger.error({ err: error, recordingId: row.id }, 'the media server did not take a recording command');
        await this.#options.transact(async (trx, outbox) => {
          const fresh = await findRecording(trx, row.id, true);
          if (!fresh || fresh.state !== row.state) return;
          const next = await updateRecording(trx, row.id, {
            state,
            ...(state === 'awaiting_consent' ? { started_at: null } : {}),
            ...(state === 'failed' ? { stopped_at: new Date() } : {}),
          });
          await this.#announce(trx, outbox, next);
        });
      }
    });
  }

  #stopAtMedia(callId: string, recordingId: string): Promise<void> {
    return this.#serial(callId, async () => {
      try {
        await this.#options.media.stop(callId);
      } catch (error) {
        // The room already closed: the media server finished the recording by itself.
        if (error instanceof MediaRecordingError && error.code === 'NOT_FOUND') return;
        this.#options.logger.error({ err: error, recordingId }, 'could not stop a recording at the media server');
      } finally {
        this.#atMedia.delete(recordingId);
      }
    });
  }

  /** The media server hands over the finished file: stored encrypted through the attachment stores. */
  async receiveFile(recordingId: string, data: Buffer, manifest: RecordingManifest | null): Promise<CallRecording> {
    const row = await findRecording(this.#options.db, recordingId);
    if (!row) throw new ApiError('NOT_FOUND', 'no such recording');
    if (row.state === 'ready' || row.state === 'deleted') return this.#view(this.#options.db, row);
    if (!manifest || data.length === 0) {
      return this.#options.transact(async (trx, outbox) =>
        this.#announce(trx, outbox, await updateRecording(trx, row.id, { state: 'failed', stopped_at: row.stopped_at ?? new Date() })),
      );
    }
    if (!data.subarray(0, 4).equals(EBML_MAGIC)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'a recording is a Matroska file');
    const key = randomUUID();
    const stored = await this.#options.storage.put(key, data);
    const days = this.#options.settings.retentionDays;
    return this.#options.transact(async (trx, outbox) => {
      const next = await updateRecording(trx, row.id, {
        state: 'ready',
        stopped_at: row.stopped_at ?? new Date(manifest.stoppedAt),
        duration_ms: Math.round(manifest.durationMs),
        size_bytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        storage_key: stored.key,
        key_id: stored.keyId,
        store: stored.store,
        gaps: JSON.stringify(manifest.gaps) as unknown as CallRecordingRow['gaps'],
        manifest: JSON.stringify(manifest),
        expires_at: days === undefined ? null : new Date(Date.now() + days * 86_400_000),
      });
      return this.#announce(trx, outbox, next);
    });
  }

  /** The call's open recording (any participant: the indicator), or null. */
  async #currentOrFail(user: AuthUser, callId: string): Promise<CallRecording> {
    const recording = await this.current(user, callId);
    if (!recording) throw new ApiError('NOT_FOUND', 'this call has no recording');
    return recording;
  }

  /** The call's latest recording request; undefined when recording was never asked for in it. */
  async current(user: AuthUser, callId: string): Promise<CallRecording | undefined> {
    const call = await this.#options.calls.loadVisible(this.#options.db, user, callId);
    const rows = await listRecordings(this.#options.db, call.id);
    const row = rows[0];
    return row ? this.#view(this.#options.db, row, call) : undefined;
  }

  /**
   * The call's recordings for its doctors and admins. Patients get 403: the recording is part of
   * the clinical record the clinic keeps; a patient asks the clinic for a copy.
   */
  async list(user: AuthUser, callId: string): Promise<CallRecording[]> {
    const call = await this.#options.calls.loadVisible(this.#options.db, user, callId);
    this.#assertMayRead(user, call);
    const rows = await listRecordings(this.#options.db, call.id);
    const consents = await findConsents(
      this.#options.db,
      rows.map((r) => r.id),
    );
    return rows.map((row) => toRecording(row, consents, call));
  }

  #assertMayRead(user: AuthUser, call: Call): void {
    if (user.role === 'admin') return;
    if (user.role !== 'doctor' || !call.participants.some((p) => p.userId === user.id))
      throw new ApiError('FORBIDDEN', "recordings are for the call's doctors and admins");
  }

  /** The decrypted file of a ready recording (doctors of its call and admins). */
  async file(user: AuthUser, recordingId: string): Promise<{ recording: CallRecording; data: Buffer; sha256: string }> {
    const row = await findRecording(this.#options.db, recordingId);
    if (!row) throw new ApiError('NOT_FOUND', 'no such recording');
    const call = await this.#options.calls.loadVisible(this.#options.db, user, row.call_id).catch(() => {
      throw new ApiError('NOT_FOUND', 'no such recording');
    });
    this.#assertMayRead(user, call);
    if (row.state !== 'ready' || !row.storage_key || !row.key_id || !row.sha256)
      throw new ApiError('CONFLICT', `the recording is ${row.state}, not ready to download`);
    const data = await this.#options.storage.get(row.store, { key: row.storage_key, keyId: row.key_id });
    return { recording: await this.#view(this.#options.db, row, call), data, sha256: row.sha256 };
  }

  /** Runs the retention sweep every `intervalMs` while retention is configured. */
  startRetention(intervalMs = 3_600_000): void {
    if (this.#options.settings.retentionDays === undefined || this.#retentionTimer) return;
    const sweep = (): void => void this.sweepRetention().catch((err: unknown) => this.#options.logger.warn({ err }, 'recording retention sweep failed'));
    this.#retentionTimer = setInterval(sweep, intervalMs);
    this.#retentionTimer.unref();
    sweep();
  }

  close(): void {
    clearInterval(this.#retentionTimer);
    this.#retentionTimer = undefined;
  }

  /** Deletes ready recordings whose retention ran out (files and keys); returns how many. */
  async sweepRetention(now = new Date()): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.#options.transact(async (trx) => {
        const rows = await claimExpiredRecordings(trx, now, 20);
        for (const row of rows) {
          if (row.storage_key && row.key_id) await this.#options.storage.delete(row.store, { key: row.storage_key, keyId: row.key_id });
          await updateRecording(trx, row.id, { state: 'deleted', storage_key: null, key_id: null });
        }
        if (rows.length > 0)
          await audit(
            trx,
            { ip: '', state: {} },
            null,
            'delete',
            'recording',
            rows.map((r) => r.id),
          );
        return rows.length;
      });
      deleted += batch;
      if (batch < 20) return deleted;
    }
  }
}

import { signBodyToken } from '@telemed/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, CallTimelineEntry, QualitySample, Session } from '@telemed/sdk';
import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER, type MediaEvent, type MediaEventBatch, type ServerTrackStatsSample } from '@telemed/sdk/protocol';
import { postMediaEvents, type MediaEventsPostOptions } from '../testing/media-events-post.js';
import { DATABASES, TEST_SECRETS, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

function sample(identity: string, trackId: string, score: number, rttMs: number, lossRatio: number): ServerTrackStatsSample {
  return {
    trackId,
    producerId: trackId,
    direction: 'in',
    identity,
    kind: 'video',
    source: 'camera',
    sampledAt: new Date().toISOString(),
    score,
    bitrateBps: 800_000,
    packets: 1000,
    packetsLost: Math.round(lossRatio * 1000),
    lossRatio,
    jitterMs: 4,
    rttMs,
    nackCount: 1,
    pliCount: 0,
    firCount: 0,
    spatialLayer: 2,
    temporalLayer: 2,
  };
}

describe.each(DATABASES)('media server events on %s', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const post = (batch: MediaEventBatch, options?: MediaEventsPostOptions) => postMediaEvents(t.url, batch, options);

  beforeAll(async () => {
    t = await startTestApp(database);
    for (const who of ['alice', 'drgrey', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => t?.close());

  it('refuses unsigned, wrongly signed and tampered batches', async () => {
    const batch: MediaEventBatch = { node: 'n1', events: [] };
    const body = JSON.stringify(batch);
    expect((await fetch(`${t.url}/internal/media-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    expect((await post(batch, { secret: 'another-secret-0123456789abcdef' })).status).toBe(401);
    expect(
      (
        await post(batch, {
          token: signBodyToken({
            secret: TEST_SECRETS.mediaWebhookSecret,
            issuer: MEDIA_EVENTS_ISSUER,
            audience: MEDIA_EVENTS_AUDIENCE,
            body,
            expiresInSeconds: 60,
          }),
          raw: JSON.stringify({ node: 'n2', events: [] }),
        })
      ).status,
    ).toBe(401);
    expect((await post(batch)).status).toBe(200);
  });

  it('tracks participants in the room, stores track stats, ends the call when the room finishes, and applies each (room, seq) once', async () => {
    const call = (await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.drgrey.user.id] })).body;
    await as('drgrey').post(`/api/calls/${call.id}/accept`);
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
    const base = (seq: number, offsetMs = 0) => ({ roomId: call.id, epoch: 1_700_000_000_000, seq, at: at(offsetMs) });
    const events: MediaEvent[] = [
      { ...base(1), type: 'room_started' },
      { ...base(2, -3000), type: 'participant_joined', identity: s.alice.user.id, participantId: 'p1' },
      { ...base(3, -3000), type: 'participant_joined', identity: s.drgrey.user.id, participantId: 'p2' },
      { ...base(4), type: 'track_stats', samples: [sample(s.alice.user.id, 'prodA', 10, 40, 0), sample(s.drgrey.user.id, 'prodG', 7, 120, 0.05)] },
    ];
    const first = await post({ node: 'n1', events });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ applied: 4, duplicates: 0, ignored: 0, rejected: 0, rejectedSamples: 0 });
    const during = (await as('alice').get<Call>(`/api/calls/${call.id}`)).body;
    expect(during.participants.every((p) => p.inRoom)).toBe(true);
    // While in the room, the running stay counts (joined 3 s ago).
    expect(during.participants.map((p) => p.mediaSeconds)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(during.participants.every((p) => p.mediaSeconds >= 3 && p.mediaSeconds <= 10)).toBe(true);

    // the media server retries the same batch: nothing changes
    const retry = await post({ node: 'n1', events });
    expect(await retry.json()).toEqual({ applied: 0, duplicates: 4, ignored: 0, rejected: 0, rejectedSamples: 0 });
    const samples = await t.app.db.selectFrom('call_quality_samples').select('id').where('call_id', '=', call.id).execute();
    expect(samples).toHaveLength(2);

    const live = await as('admin').get<{ items: Array<{ callId: string; samples: QualitySample[] }> }>('/api/admin/quality/live');
    expect(
      live.body.items
        .find((c) => c.callId === call.id)
        ?.samples.map((x) => x.trackId)
        .sort(),
    ).toEqual(['prodA', 'prodG']);

    const end = await post({
      node: 'n1',
      events: [
        { ...base(6, 2000), type: 'participant_left', identity: s.drgrey.user.id, participantId: 'p2', reason: 'room_closed' },
        { ...base(5, 2000), type: 'participant_left', identity: s.alice.user.id, participantId: 'p1', reason: 'left' },
        { ...base(7, 2000), type: 'room_finished', reason: 'empty' },
      ],
    });
    expect(await end.json()).toEqual({ applied: 3, duplicates: 0, ignored: 0, rejected: 0, rejectedSamples: 0 });
    const ended = (await as('drgrey').get<Call>(`/api/calls/${call.id}`)).body;
    expect(ended).toMatchObject({ status: 'ended', endReason: 'room_empty' });
    expect(ended.participants.every((p) => !p.inRoom && p.mediaSeconds >= 5)).toBe(true);
    expect(ended.qualitySummary).toEqual({
      samples: 2,
      worstScore: 7,
      medianScore: 8.5,
      maxLossRatio: expect.closeTo(0.05, 5),
      medianRttMs: 80,
      maxRttMs: 120,
    });

    const series = await as('alice').get<{ items: QualitySample[] }>(`/api/calls/${call.id}/quality?trackId=prodG`);
    expect(series.body.items).toHaveLength(1);
    expect(series.body.items[0]).toMatchObject({ source: 'server', score: 7, rttMs: 120 });
  });

  it('applies the events of a room rebuilt after its worker died (a later epoch, seq from 1 again) and keeps the call going', async () => {
    const call = (await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.drgrey.user.id] })).body;
    await as('drgrey').post(`/api/calls/${call.id}/accept`);
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
    const first = { roomId: call.id, epoch: 1_700_000_000_000 };
    const rebuilt = { roomId: call.id, epoch: first.epoch + 5_000 };
    const joined = (instance: typeof first, seq: number, who: 'alice' | 'drgrey', offsetMs: number): MediaEvent => ({
      ...instance,
      seq,
      at: at(offsetMs),
      type: 'participant_joined',
      identity: s[who].user.id,
      participantId: `${who}-${instance.epoch}`,
    });
    const before = await post({
      node: 'n1',
      events: [
        { ...first, seq: 1, at: at(0), type: 'room_started' },
        joined(first, 2, 'alice', 0),
        joined(first, 3, 'drgrey', 0),
        { ...first, seq: 4, at: at(1000), type: 'participant_left', identity: s.alice.user.id, participantId: `alice-${first.epoch}`, reason: 'room_closed' },
        { ...first, seq: 5, at: at(1000), type: 'participant_left', identity: s.drgrey.user.id, participantId: `drgrey-${first.epoch}`, reason: 'room_closed' },
        { ...first, seq: 6, at: at(1000), type: 'room_finished', reason: 'worker_died' },
      ],
    });
    expect(await before.json()).toEqual({ applied: 5, duplicates: 0, ignored: 1, rejected: 0, rejectedSamples: 0 });
    const meanwhile = (await as('alice').get<Call>(`/api/calls/${call.id}`)).body;
    expect(meanwhile.status).toBe('active'); // a dead worker does not end the call
    expect(meanwhile.participants.some((p) => p.inRoom)).toBe(false);

    // The rebuilt room's first events reuse seq 1..3, in one batch with a retried event of the old instance.
    const after = await post({
      node: 'n1',
      events: [
        joined(rebuilt, 3, 'drgrey', 2000),
        { ...rebuilt, seq: 1, at: at(2000), type: 'room_started' },
        joined(rebuilt, 2, 'alice', 2000),
        { ...first, seq: 6, at: at(1000), type: 'room_finished', reason: 'worker_died' },
      ],
    });
    expect(await after.json()).toEqual({ applied: 3, duplicates: 1, ignored: 0, rejected: 0, rejectedSamples: 0 });
    const back = (await as('alice').get<Call>(`/api/calls/${call.id}`)).body;
    expect(back.status).toBe('active');
    expect(back.participants.every((p) => p.inRoom)).toBe(true);

    await post({ node: 'n1', events: [{ ...rebuilt, seq: 4, at: at(3000), type: 'room_finished', reason: 'empty' }] });
    expect((await as('alice').get<Call>(`/api/calls/${call.id}`)).body).toMatchObject({ status: 'ended', endReason: 'room_empty' });
  });

  it("records a participant's reconnections (socket resumed, ICE restarted) in the call timeline, once per (room, epoch, seq)", async () => {
    const call = (await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.drgrey.user.id] })).body;
    await as('drgrey').post(`/api/calls/${call.id}/accept`);
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
    const base = (seq: number, offsetMs: number) => ({ roomId: call.id, epoch: 1_700_000_000_000, seq, at: at(offsetMs) });
    const alice = { identity: s.alice.user.id, participantId: 'p1' };
    const events: MediaEvent[] = [
      { ...base(1, -5000), type: 'room_started' },
      { ...base(2, -5000), type: 'participant_joined', ...alice },
      { ...base(3, -3000), type: 'participant_reconnected', ...alice, how: 'signaling', offlineMs: 5400, restarts: 0 },
      { ...base(4, -1000), type: 'participant_reconnected', ...alice, how: 'ice', offlineMs: 2100, restarts: 3 },
      // Someone the call does not know: nothing to record.
      { ...base(5, -1000), type: 'participant_reconnected', identity: s.admin.user.id, participantId: 'p9', how: 'ice', offlineMs: 10, restarts: 1 },
    ];
    expect(await (await post({ node: 'n1', events })).json()).toEqual({ applied: 4, duplicates: 0, ignored: 1, rejected: 0, rejectedSamples: 0 });
    expect(await (await post({ node: 'n1', events })).json()).toEqual({ applied: 0, duplicates: 5, ignored: 0, rejected: 0, rejectedSamples: 0 });
    const timeline = (await as('admin').get<{ items: CallTimelineEntry[] }>(`/api/calls/${call.id}/timeline`)).body.items;
    const reconnected = timeline.filter((e) => e.kind === 'reconnected');
    expect(reconnected).toEqual([
      expect.objectContaining({
        userId: s.alice.user.id,
        displayName: s.alice.user.displayName,
        at: events[2]!.at,
        detail: JSON.stringify({ how: 'signaling', offlineMs: 5400 }),
      }),
      expect.objectContaining({ userId: s.alice.user.id, at: events[3]!.at, detail: JSON.stringify({ how: 'ice', offlineMs: 2100, restarts: 3 }) }),
    ]);
    // A reconnection is not a leave: Alice is still in the room.
    expect((await as('alice').get<Call>(`/api/calls/${call.id}`)).body.participants.find((p) => p.userId === s.alice.user.id)?.inRoom).toBe(true);
    // A reconnection without its how does not match the protocol: skipped and counted, the batch answered 200.
    const bad = JSON.stringify({ node: 'n1', events: [{ ...base(6, 0), type: 'participant_reconnected', ...alice, offlineMs: 1, restarts: 0 }] });
    const refused = await post({ node: 'n1', events: [] }, { raw: bad });
    expect(await refused.json()).toEqual({ applied: 0, duplicates: 0, ignored: 0, rejected: 1, rejectedSamples: 0 });
  });

  it('skips an event or a track sample the database could not store, applies the rest of the batch, and answers 200 so the media server moves on', async () => {
    const call = (await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.drgrey.user.id] })).body;
    await as('drgrey').post(`/api/calls/${call.id}/accept`);
    const base = (seq: number) => ({ roomId: call.id, epoch: 1_700_000_000_000, seq, at: new Date().toISOString() });
    const good = sample(s.alice.user.id, 'prodOk', 9, 50, 0);
    const badSamples = [
      { ...good, trackId: 'nul\u0000track' },
      { ...good, packetsLost: 2 ** 31 },
      { ...good, bitrateBps: 1e308 },
      { ...good, jitterMs: -1e308 },
      { ...good, sampledAt: '0000-01-01T00:00:00Z' },
      { ...good, sampledAt: '+275760-09-13T00:00:00.000Z' },
    ];
    const body = JSON.stringify({
      node: 'n1',
      events: [
        { ...base(1), type: 'track_stats', samples: [good, ...badSamples, { ...good, trackId: 'prodTiny', rttMs: 1e-300 }] },
        { ...base(2), type: 'participant_joined', identity: 'x\u0000', participantId: 'p1' },
        { ...base(2 ** 31), type: 'room_started' },
        { ...base(3), at: '0000-01-01T00:00:00Z', type: 'room_started' },
        { ...base(4), type: 'participant_joined', identity: s.alice.user.id, participantId: 'p1' },
      ],
    });
    const res = await post({ node: 'n1', events: [] }, { raw: body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ applied: 2, duplicates: 0, ignored: 0, rejected: 3, rejectedSamples: badSamples.length });
    const stored = await as('admin').get<{ items: QualitySample[] }>(`/api/calls/${call.id}/quality`);
    // A value too small for a real column is stored as 0 rather than refused.
    expect(stored.body.items.map((x) => [x.trackId, x.rttMs]).sort()).toEqual([
      ['prodOk', 50],
      ['prodTiny', 0],
    ]);
    expect((await as('alice').get<Call>(`/api/calls/${call.id}`)).body.participants.find((p) => p.userId === s.alice.user.id)?.inRoom).toBe(true);
  });

  it("takes client-side samples from the call's participants only", async () => {
    const call = (await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.drgrey.user.id] })).body;
    const batch = {
      samples: [
        {
          trackId: 'inbound-1',
          direction: 'in',
          kind: 'video',
          source: 'camera',
          sampledAt: new Date().toISOString(),
          bitrateBps: 500_000,
          packetsLost: 3,
          jitterMs: 5,
          rttMs: 60,
          framesPerSecond: 29.5,
          frameWidth: 640,
          frameHeight: 360,
          jitterBufferDelayMs: 40,
        },
      ],
    };
    expect((await as('drgrey').post(`/api/calls/${call.id}/quality`, batch)).status).toBe(403); // invited, not yet in the call
    expect((await as('alice').post(`/api/calls/${call.id}/quality`, batch)).status).toBe(200);
    expect((await as('alice').post(`/api/calls/${call.id}/quality`, { samples: [{ ...batch.samples[0], bitrateBps: -1 }] })).status).toBe(422);
    const series = await as('admin').get<{ items: QualitySample[] }>(`/api/calls/${call.id}/quality`);
    expect(series.body.items).toEqual([expect.objectContaining({ source: 'client', identity: s.alice.user.id, framesPerSecond: 29.5, frameWidth: 640 })]);
  });
});

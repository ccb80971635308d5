// Grants from the room token, enforced by the server and surfaced as typed errors: a viewer cannot
// publish or chat, a patient cannot mute or remove others, a doctor (roomAdmin) can.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { joinPage, roomStats, waitForFreshMedia, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

type Outcome = { ok: true } | { ok: false; name: string; code: string };

describe.each(BROWSERS)('room grants in %s', (browserName) => {
  const ROOM = `grants-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let doctor: TestPage;
  let patient: TestPage;
  let viewer: TestPage;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser(browserName)]);
    const res = { res: '320x240' };
    doctor = await joinPage(browser, platform, ROOM, 'doctor', { params: res, grants: { roomAdmin: true } });
    patient = await joinPage(browser, platform, ROOM, 'patient', { params: res, grants: {} });
    viewer = await joinPage(browser, platform, ROOM, 'viewer', { params: { ...res, publish: '0' }, grants: { canPublish: false, canPublishData: false } });
    await waitForFreshMedia(viewer, ['doctor', 'patient'], 30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  /** Runs a Room action in the page and reports the typed error it failed with. */
  const attempt = (page: TestPage, action: 'camera' | 'chat' | 'muteDoctor' | 'removeDoctor' | 'mutePatient' | 'removeViewer'): Promise<Outcome> =>
    page.evaluate(async (what) => {
      const room = window.telemed.room;
      const find = (identity: string) => {
        const participant = [...room.remoteParticipants.values()].find((p) => p.identity === identity);
        if (!participant) throw new Error(`${identity} is not in the room`);
        return participant;
      };
      try {
        if (what === 'camera') await room.localParticipant.setCameraEnabled(true);
        else if (what === 'chat') await room.sendChatMessage('may I?');
        else if (what === 'muteDoctor') await room.muteParticipantTrack(find('doctor'), 'microphone');
        else if (what === 'removeDoctor') await room.removeParticipant(find('doctor'));
        else if (what === 'mutePatient') await room.muteParticipantTrack(find('patient'), 'microphone');
        else await room.removeParticipant(find('viewer'));
        return { ok: true as const };
      } catch (error) {
        const e = error as { name?: string; code?: string };
        return { ok: false as const, name: String(e.name), code: String(e.code) };
      }
    }, action);

  it('a token without canPublish cannot publish or chat, but receives everyone', async () => {
    expect(await attempt(viewer, 'camera')).toEqual({ ok: false, name: 'TelemedError', code: 'FORBIDDEN' });
    expect(await attempt(viewer, 'chat')).toEqual({ ok: false, name: 'TelemedError', code: 'FORBIDDEN' });
    const stats = await roomStats(platform, ROOM);
    const viewerSid = await viewer.evaluate(() => window.telemed.room.localParticipant.sid);
    expect(stats.producers.filter((p) => p.participantId === viewerSid)).toEqual([]);
    expect(stats.consumers.filter((c) => c.participantId === viewerSid)).toHaveLength(4);
  });

  it('a participant without roomAdmin cannot mute or remove others (SignalingError FORBIDDEN)', async () => {
    expect(await attempt(patient, 'muteDoctor')).toEqual({ ok: false, name: 'SignalingError', code: 'FORBIDDEN' });
    expect(await attempt(patient, 'removeDoctor')).toEqual({ ok: false, name: 'SignalingError', code: 'FORBIDDEN' });
    const stats = await roomStats(platform, ROOM);
    expect(stats.participants).toBe(3);
    expect(stats.producers.every((p) => !p.paused)).toBe(true);
  });

  it('a room admin mutes a participant (server pauses it, its owner is told) and removes one', async () => {
    // The others' rooms: the patient's microphone publication muted, the viewer left with the reason.
    await doctor.evaluate(() => {
      const w = window as typeof window & {
        telemed: { room: { on(event: 'participantLeft', listener: (p: { identity: string }, reason: string) => void): void } };
        leftReasons: string[];
      };
      w.leftReasons = [];
      w.telemed.room.on('participantLeft', (participant, reason) => w.leftReasons.push(`${participant.identity}:${reason}`));
    });
    expect(await attempt(doctor, 'mutePatient')).toEqual({ ok: true });
    await waitFor(
      "the viewer sees the patient's microphone publication muted",
      () =>
        viewer.evaluate(() => {
          type Publication = { source: string; isMuted: boolean; track?: { isMuted: boolean } };
          const room = (
            window as typeof window & {
              telemed: { room: { remoteParticipants: Map<string, { identity: string; getTrackPublication(source: string): Publication | undefined }> } };
            }
          ).telemed.room;
          const publication = [...room.remoteParticipants.values()].find((p) => p.identity === 'patient')?.getTrackPublication('microphone');
          return publication?.isMuted && publication.track?.isMuted ? true : undefined;
        }),
      { timeoutMs: 10_000 },
    );
    const patientSid = await patient.evaluate(() => window.telemed.room.localParticipant.sid);
    const stats = await roomStats(platform, ROOM);
    expect(stats.producers.find((p) => p.participantId === patientSid && p.source === 'microphone')?.paused).toBe(true);
    await waitFor(
      'the patient sees its own microphone muted',
      () => patient.evaluate(() => (window.telemed.room.localParticipant.getTrack('microphone')?.isMuted ? true : undefined)),
      { timeoutMs: 10_000 },
    );

    expect(await attempt(doctor, 'removeViewer')).toEqual({ ok: true });
    const ended = await waitFor(
      'the viewer disconnected',
      () =>
        viewer.evaluate(() => {
          const handle = window.telemed;
          return handle.room.state === 'disconnected' ? handle.states : undefined;
        }),
      { timeoutMs: 10_000 },
    );
    expect(ended).not.toContain('reconnecting');
    expect(await viewer.text('#status')).toContain('REMOVED');
    await waitFor(
      'the doctor told why the viewer left',
      async () => {
        const reasons = await doctor.evaluate(() => (window as typeof window & { leftReasons: string[] }).leftReasons);
        return reasons.includes('viewer:removed') ? true : undefined;
      },
      { timeoutMs: 10_000 },
    );
    await waitFor('two participants left on the server', async () => ((await roomStats(platform, ROOM)).participants === 2 ? true : undefined), {
      timeoutMs: 10_000,
    });
  });

  it('ran without page or server errors', () => {
    for (const page of [doctor, patient, viewer]) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});

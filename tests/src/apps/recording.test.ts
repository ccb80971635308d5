// Call recording with consent through the apps and the real SFU: the doctor calls a patient and
// records while alone in the room; the patient joins late, which pauses the recording until she
// consents in the app; a recorder process killed mid-call is restarted (the gap is recorded); the
// doctor stops it. The stored file is encrypted at rest and decrypts with the key ring; ffprobe
// finds Opus audio and both VP8 video tracks and a duration matching the recorded span; every frame
// decodes and a frame from the middle is not blank; the doctor's camera and microphone flash and beep
// together (see av-sync.ts) and each flash in the file is within SOUND_LEADS_MS / SOUND_LAGS_MS of its beep; the admin
// dashboard lists the recording on the call's page and downloads it (audited). Then a refused request records nothing, and
// the media server itself refuses to record without everyone's consent. Last, the media server is
// killed (SIGKILL) while recording: none of its recorder processes survives it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signBodyToken } from '@telemed/server-kit';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallRecording } from '@telemed/sdk';
import { RECORDING_COMMAND_AUDIENCE, RECORDING_COMMAND_ISSUER } from '@telemed/sdk/protocol';
import { DEMO, DEMO_PASSWORD, remoteVideoFrames, waitForSelector } from './app-page.js';
import { decodedVideoFrames, decodeErrors, firstVideoPacketFlags, probeRecording, streamEndS } from '../recording-file.js';
import { beepOnsets, flashOnsets, flashToBeepOffsets, installSyncSource } from '../av-sync.js';
import { patientAndDoctor, signInAdmin } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-rec-store-'));
const recordingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-rec-media-'));
const RECORD_SECONDS = 10;
// Flash-to-beep offsets accepted in the muxed file. People notice sound leading the picture from
// about 45 ms and lagging from about 125 ms (ITU-R BT.1359); the source itself is exact only to a
// frame of its canvas (17 ms) and a frame of the encoded video (the app sends up to 30 frames/s).
// Sound leading: 100 ms once the flash's frame gap is allowed for. Sound lagging: the 125 ms a viewer
// notices: beside a hog, at load 10, one segment's flashes went from 76 ms late to 113 ms early in
// 6 s. A drift inside one segment is not its placement (one offset per segment); a browser short of
// CPU delaying its own audio more and more is the likely source.
const SOUND_LEADS_MS = 100;
const SOUND_LAGS_MS = 125;

/** Every file under `dir`, recursively. */
function filesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** AES-256-GCM as stored at rest (iv ‖ tag ‖ ciphertext, the storage key as additional data), with the ring's first key. */
function decryptStored(sealed: Buffer, storageKey: string, ring: string): Buffer {
  const first = ring.split(',')[0]!;
  const key = Buffer.from(first.includes(':') ? first.split(':')[1]! : first, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  decipher.setAAD(Buffer.from(`attachment:${storageKey}`));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}

describe('call recording with consent in chromium', () => {
  const f = patientAndDoctor(
    { ENABLE_CALL_RECORDING: 'true', ATTACHMENTS_DIR: attachmentsDir },
    { ENABLE_CALL_RECORDING: 'true', MEDIA_RECORDING_DIR: recordingDir },
  );
  afterAll(() => {
    for (const dir of [attachmentsDir, recordingDir]) fs.rmSync(dir, { recursive: true, force: true });
  });

  // One sign-in per user (logins are rate-limited); access tokens last longer than this file.
  const tokens = new Map<string, Promise<string>>();
  const tokenOf = (who: 'grey' | 'alice' | 'admin'): Promise<string> => {
    let token = tokens.get(who);
    if (!token) {
      token = fetch(`${f.platform.apiUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: DEMO[who], password: DEMO_PASSWORD }),
      }).then(async (res) => ((await res.json()) as { accessToken: string }).accessToken);
      tokens.set(who, token);
    }
    return token;
  };

  async function api<T>(who: 'grey' | 'alice' | 'admin', method: string, route: string, body?: unknown): Promise<{ status: number; body: T; raw: Buffer }> {
    const accessToken = await tokenOf(who);
    const res = await fetch(`${f.platform.apiUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const json = res.headers.get('content-type')?.includes('json') ? (JSON.parse(raw.toString('utf8')) as T) : (undefined as T);
    return { status: res.status, body: json, raw };
  }

  /** The recorder (FFmpeg) processes the media server runs now. */
  function recorderPids(kind?: 'audio' | 'video'): number[] {
    const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(f.platform.processes.media.pid)], { encoding: 'utf8' }).stdout;
    const pids = out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([, comm]) => comm === 'ffmpeg')
      .map(([pid]) => Number(pid));
    // Segment files are named `${kind}-${trackId}.${n}.mkv`.
    return kind ? pids.filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`/${kind}-`)) : pids;
  }

  let callId = '';
  const recordingOf = async (): Promise<CallRecording> => (await api<CallRecording>('grey', 'GET', `/api/calls/${callId}/recording`)).body;

  it('records after everyone present consented, pauses for a late joiner, survives a recorder crash, and stores a playable encrypted file', async () => {
    // The doctor's camera and microphone flash and beep together; the patient's picture does not flash
    // and her microphone is silent, so every flash and beep in the file is the doctor's.
    await Promise.all([installSyncSource(f.grey, { signal: true }), installSyncSource(f.alice, { signal: false })]);
    // The doctor rings the patient; she answers but stays in the waiting room for now.
    await waitForSelector(f.grey, '[data-contact="alice@patients.demo"] button[aria-label^="Video call"]');
    await f.grey.click('[data-contact="alice@patients.demo"] button[aria-label^="Video call"]');
    await waitForSelector(f.alice, '[data-testid=incoming-call]');
    await f.alice.click('[data-testid=incoming-call] button.success');
    await waitForSelector(f.alice, '#join-call');
    await waitForSelector(f.grey, '[data-testid=in-call] #toggle-recording', 30_000);
    callId = (await api<{ items: Array<{ id: string }> }>('grey', 'GET', '/api/calls?status=active')).body.items[0]!.id;

    // Alone in the room, the doctor's request is everyone's consent: it records at once.
    await waitFor('the doctor in the media room', async () =>
      (await api<{ participants: Array<{ inRoom: boolean }> }>('grey', 'GET', `/api/calls/${callId}`)).body.participants.some((p) => p.inRoom),
    );
    await f.grey.click('#toggle-recording');
    await waitForSelector(f.grey, '[data-testid=recording-indicator]', 30_000);
    await waitFor("the doctor's recorders", async () => recorderPids().length >= 2 || undefined, { timeoutMs: 30_000 });
    // The doctor's camera (the one that flashes) is the recorder killed below, so that the A/V check
    // covers the segment its restarted recorder writes.
    const [victim] = recorderPids('video');

    // The patient joins: paused (the media server pauses it the moment she joins) until she consents.
    await f.alice.click('#join-call');
    await waitForSelector(f.grey, '[data-testid=recording-paused]', 30_000);
    expect((await recordingOf()).state).toBe('paused');
    await waitForSelector(f.alice, '[data-testid=recording-consent]', 30_000);
    await f.alice.click('#recording-consent');
    await Promise.all([f.alice, f.grey].map((page) => waitForSelector(page, '[data-testid=recording-indicator]', 30_000)));
    await waitFor('both see video', async () => (await remoteVideoFrames(f.grey)).frames > 0 && (await remoteVideoFrames(f.alice)).frames > 0, {
      timeoutMs: 30_000,
    });
    await waitFor('four recorders (two tracks each)', async () => recorderPids().length >= 4 || undefined, { timeoutMs: 30_000 });
    // Killed once it has written a few clusters (a process killed while still probing its input leaves nothing).
    const victimFile = fs.readFileSync(`/proc/${victim!}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!;
    await waitFor("the victim's file to grow", async () => (fs.statSync(victimFile, { throwIfNoEntry: false })?.size ?? 0) > 60_000 || undefined, {
      timeoutMs: 60_000,
    });

    // The doctor's video recorder dies: a new process takes over, the file keeps what it wrote, and the gap is kept.
    process.kill(victim!, 'SIGKILL');
    await waitFor('the recorder restarted', async () => (recorderPids().length >= 4 && !recorderPids().includes(victim!)) || undefined, { timeoutMs: 30_000 });

    // Record with both for RECORD_SECONDS (measured from the patient's consent), then the doctor stops.
    const bothFrom = Date.now();
    await waitFor(`${RECORD_SECONDS} s recorded with both`, async () => Date.now() - bothFrom >= RECORD_SECONDS * 1000 || undefined, {
      timeoutMs: RECORD_SECONDS * 1000 + 30_000,
    });
    // The recorders' CPU so far (figures for docs/recording.md): user+system time over their lifetime.
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const cpu = recorderPids().map((pid) => {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const busy = (Number(fields[11]) + Number(fields[12])) / ticks;
      return (100 * busy) / (uptime - Number(fields[19]) / ticks);
    });
    console.log(`[recording] recorder CPU: ${cpu.map((c) => `${c.toFixed(1)} %`).join(', ')} of one core (sum ${cpu.reduce((a, b) => a + b, 0).toFixed(1)} %)`);
    await f.grey.click('#toggle-recording');
    await waitFor('the indicator gone', () => f.alice.evaluate(() => !document.querySelector('[data-testid=recording-indicator]') || undefined), {
      timeoutMs: 30_000,
    });
    const ready = await waitFor(
      'the recording stored',
      async () => {
        const r = await recordingOf();
        return r.state === 'ready' ? r : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const span = (new Date(ready.stoppedAt!).getTime() - new Date(ready.startedAt!).getTime()) / 1000;
    console.log(
      `[recording] ready: ${ready.sizeBytes} bytes, ${ready.durationSeconds} s (span at the API ${span.toFixed(1)} s), gaps ${JSON.stringify(ready.gaps)}`,
    );
    // One gap: between the kill and the new process; what the killed process wrote is kept.
    expect(ready.gaps).toHaveLength(1);
    expect(ready.consents.map((c) => c.decision)).toEqual(['granted', 'granted']);

    // Encrypted at rest: the stored bytes are not Matroska, and decrypt with the key ring into the file the API serves.
    const stored = filesIn(attachmentsDir);
    expect(stored).toHaveLength(1);
    const sealed = fs.readFileSync(stored[0]!);
    expect(sealed.subarray(0, 4).toString('hex')).not.toBe('1a45dfa3');
    const file = decryptStored(sealed, path.basename(stored[0]!), f.platform.secrets.encryptionKey);
    expect(file.subarray(0, 4).toString('hex')).toBe('1a45dfa3');
    const download = await api<undefined>('grey', 'GET', `/api/recordings/${ready.id}/file`);
    expect(download.status).toBe(200);
    expect(createHash('sha256').update(download.raw).digest('hex')).toBe(createHash('sha256').update(file).digest('hex'));
    // Patients ask the clinic for a copy: no listing, no download.
    expect((await api('alice', 'GET', `/api/recordings/${ready.id}/file`)).status).toBe(403);
    expect((await api('alice', 'GET', `/api/calls/${callId}/recordings`)).status).toBe(403);
    // The admin dashboard lists it on the call's page and downloads it: the same bytes, audited.
    const admin = await signInAdmin(f);
    await admin.goto(`${f.platform.apiUrl}/admin/#/calls/${callId}`);
    await waitForSelector(admin, `[data-testid=recordings] [data-recording="${ready.id}"] button`, 30_000);
    expect(await admin.text(`[data-recording="${ready.id}"]`)).toMatch(/ready · 1 gap/);
    // The dashboard hands the decrypted file to the browser as a blob URL: the test keeps the blob.
    await admin.evaluate(() => {
      const create = URL.createObjectURL.bind(URL);
      URL.createObjectURL = (blob: Blob | MediaSource) => {
        (window as typeof window & { downloaded?: Blob }).downloaded = blob as Blob;
        return create(blob);
      };
    });
    await admin.click(`[data-recording="${ready.id}"] button`);
    const adminSha = await waitFor(
      "the admin's download",
      () =>
        admin.evaluate(async () => {
          const blob = (window as typeof window & { downloaded?: Blob }).downloaded;
          if (!blob) return undefined;
          return [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))].map((b) => b.toString(16).padStart(2, '0')).join('');
        }),
      { timeoutMs: 30_000 },
    );
    expect(adminSha).toBe(createHash('sha256').update(file).digest('hex'));
    const audit = await api<{ items: Array<{ actorName: string; action: string }> }>('admin', 'GET', `/api/admin/audit?entityId=${ready.id}&action=download`);
    expect(audit.body.items.map((i) => i.actorName).sort()).toEqual(['Clinic Admin', 'Dr. Meredith Grey']);
    await admin.close();
    // The media server handed the file over and kept nothing.
    expect(filesIn(recordingDir)).toEqual([]);

    const local = path.join(recordingDir, 'check.mkv');
    fs.writeFileSync(local, file);
    try {
      const probe = probeRecording(local);
      const audio = probe.streams.filter((s) => s.codec_type === 'audio');
      const video = probe.streams.filter((s) => s.codec_type === 'video');
      const duration = probe.duration;
      console.log(`[recording] ffprobe: ${probe.summary}`);
      expect(audio.map((s) => s.codec_name)).toEqual(['opus']);
      // Both cameras, the killed recorder's track in two segments (before and after the kill).
      expect(video).toHaveLength(3);
      expect(video.every((s) => s.codec_name === 'vp8')).toBe(true);
      expect(duration).toBeGreaterThan(span * 0.9);
      expect(duration).toBeLessThan(span * 1.1 + 1);
      // Every frame decodes without an error.
      expect(decodeErrors(local)).toBe('');
      // A stop keeps every track to its end: the streams recorded up to the stop (all but the killed
      // recorder's first segment) end together, give or take what the senders did last: Opus DTX
      // sends a packet every 400 ms in silence, and a starved encoder skips frames (the patient's
      // camera ended 0.71 s before the doctor's beside a CPU hog). Recorders used to lose their last
      // cluster, up to a second and more; TrackRecorder.test checks the stop itself to the frame.
      const restartedAtS = ready.gaps[0]!.toMs / 1000;
      const ends = probe.streams.map((s) => streamEndS(s) ?? 0).filter((end) => end > restartedAtS);
      expect(ends).toHaveLength(3);
      expect(Math.max(...ends) - Math.min(...ends)).toBeLessThan(1);
      // In every video stream a frame is not blank, and the fake camera's moving pattern differs
      // between an early and a later frame.
      // A simulcast track may change resolution: one filter graph for the whole stream (no re-init, which
      // would restart the frame count) scaling every frame to 160x120.
      const grayFrame = (stream: number, n: number): Buffer =>
        execFileSync(
          'ffmpeg',
          [
            '-v',
            'error',
            '-reinit_filter',
            '0',
            '-i',
            local,
            '-map',
            `0:v:${stream}`,
            '-vf',
            `scale=160:120,select=eq(n\\,${n})`,
            '-frames:v',
            '1',
            '-f',
            'rawvideo',
            '-pix_fmt',
            'gray',
            '-',
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
      for (let stream = 0; stream < video.length; stream++) {
        // Each track (segment) starts on a keyframe: its consumer was resumed with a keyframe request once the recorder listened.
        expect(firstVideoPacketFlags(local, stream)).toMatch(/^K/);
        const frames = decodedVideoFrames(local, stream);
        expect(frames).toBeGreaterThan(10);
        const lateIndex = Math.floor(frames * 0.75);
        const [early, late] = [grayFrame(stream, 2), grayFrame(stream, lateIndex)];
        expect(early.length).toBeGreaterThan(0);
        expect(late.length).toBe(early.length);
        const mean = early.reduce((sum, v) => sum + v, 0) / early.length;
        const spread = Math.sqrt(early.reduce((sum, v) => sum + (v - mean) ** 2, 0) / early.length);
        const changed = early.reduce((sum, v, i) => sum + Math.abs(v - late[i]!), 0) / early.length;
        console.log(
          `[recording] video stream ${stream}: ${frames} frames; frame 2 mean ${mean.toFixed(1)} stddev ${spread.toFixed(1)}; frames 2 → ${lateIndex} differ by ${changed.toFixed(1)} per pixel`,
        );
        expect(spread).toBeGreaterThan(10);
        expect(changed).toBeGreaterThan(1);
      }
      // A/V sync: every flash of the doctor's video streams (the patient's never flash) against the
      // nearest beep of the mixed audio, in the segment before the recorder crash and in the one its
      // restarted recorder wrote (the doctor's camera was the one killed).
      const beeps = beepOnsets(local);
      // Each flash against its beep, with the uncertainty of its onset: a picture measured late by
      // `offset` began at most `frameGapMs` earlier. Beside a CPU hog the encoder sent fewer frames
      // and single flashes measured 93-110 ms late where the segment's others were 9-36 ms.
      const before: { offset: number; frameGapMs: number }[] = [];
      const after: { offset: number; frameGapMs: number }[] = [];
      video.forEach((_, stream) => {
        const flashes = flashOnsets(local, stream);
        const found = flashToBeepOffsets(flashes, beeps);
        console.log(
          `[recording] video stream ${stream}: ${flashes.length} flashes at ${JSON.stringify(flashes.map((f) => Number(f.at.toFixed(2))))} s, offsets to the beeps ${JSON.stringify(found)} ms, frame gaps before them ${JSON.stringify(flashes.map((f) => f.frameGapMs))} ms`,
        );
        flashes.forEach((flash, i) => {
          const offset = found[i];
          // Null in the log: the flash's beep is not in the file (it fell in a pause, see flashToBeepOffsets).
          if (offset !== undefined) (flash.at < restartedAtS ? before : after).push({ offset, frameGapMs: flash.frameGapMs });
        });
      });
      console.log(
        `[recording] A/V sync: ${beeps.length} beeps at ${JSON.stringify(beeps.map((b) => Number(b.toFixed(2))))} s; recorder restarted at ${restartedAtS.toFixed(2)} s; flash − beep before the recorder crash ${JSON.stringify(before.map((f) => f.offset))} ms, after its restart ${JSON.stringify(after.map((f) => f.offset))} ms`,
      );
      expect(before.length).toBeGreaterThanOrEqual(1);
      expect(after.length).toBeGreaterThanOrEqual(1);
      // The restarted recorder's segment too: it was misplaced as a whole in some runs (205 ms early
      // to 650 ms late) while a resume() could reach the consumer before the new process listened
      // (#17, fixed in TrackRecorder.resume; TrackRecorder.test reproduces the race).
      for (const { offset, frameGapMs } of [...before, ...after]) {
        expect(offset).toBeGreaterThan(-SOUND_LAGS_MS);
        expect(offset - frameGapMs).toBeLessThan(SOUND_LEADS_MS);
      }
      const placement = { from: Math.max(...after.map((f) => f.offset - f.frameGapMs)), to: Math.min(...after.map((f) => f.offset)) };
      console.log(`[recording] restarted segment: picture ${placement.from}…${placement.to} ms off its sound (negative: early)`);
    } finally {
      fs.rmSync(local, { force: true });
    }
  }, 420_000);

  it("a refusal keeps the recording from starting, and the media server refuses to record without everyone's consent", async () => {
    await f.grey.click('#toggle-recording');
    await waitForSelector(f.alice, '[data-testid=recording-consent]', 30_000);
    await f.alice.click('#recording-refuse');
    await Promise.all([f.alice, f.grey].map((page) => waitForSelector(page, '[data-testid=recording-refused]', 30_000)));
    const refused = await recordingOf();
    expect(refused.state).toBe('refused');
    expect(refused.startedAt).toBeNull();
    expect(refused.consents.map((c) => c.decision).sort()).toEqual(['granted', 'refused']);
    expect(recorderPids()).toEqual([]);
    expect(filesIn(recordingDir)).toEqual([]);

    // Asked directly with only the doctor's consent, the media server refuses (typed error) and writes nothing.
    const greyId = refused.requestedBy;
    const body = JSON.stringify({ recordingId: crypto.randomUUID(), state: 'recording', identities: [greyId] });
    const token = signBodyToken({
      secret: f.platform.secrets.mediaWebhookSecret,
      issuer: RECORDING_COMMAND_ISSUER,
      audience: RECORDING_COMMAND_AUDIENCE,
      body,
      expiresInSeconds: 60,
      claims: { roomId: callId },
    });
    const res = await fetch(`${f.platform.mediaHttpUrl}/rooms/${callId}/recording`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CONSENT_REQUIRED');
    expect(filesIn(recordingDir)).toEqual([]);
    expect(recorderPids()).toEqual([]);
  });

  it('a media server killed with SIGKILL mid-recording leaves no recorder process behind', async () => {
    await f.grey.click('#toggle-recording');
    await waitForSelector(f.alice, '[data-testid=recording-consent]', 30_000);
    await f.alice.click('#recording-consent');
    await Promise.all([f.alice, f.grey].map((page) => waitForSelector(page, '[data-testid=recording-indicator]', 30_000)));
    // The recorders this server started (its children, by pid): four, two tracks per participant.
    const pids = await waitFor(
      'four recorders',
      async () => {
        const found = recorderPids();
        return found.length >= 4 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const alive = (pid: number): boolean => {
      // A zombie (state Z) has exited and only waits for its new parent to reap it.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, { encoding: 'utf8', flag: 'r' }).split(') ')[1];
      return stat !== undefined && !stat.startsWith('Z');
    };
    const survivors = (): number[] =>
      pids.filter((pid) => {
        try {
          return alive(pid);
        } catch {
          return false; // no /proc entry: gone
        }
      });
    const media = f.platform.processes.media;
    const exited = new Promise<void>((resolve) => media.once('exit', () => resolve()));
    process.kill(media.pid!, 'SIGKILL');
    await exited;
    try {
      await waitFor('the recorders ended with their media server', () => survivors().length === 0 || undefined, { timeoutMs: 30_000 });
    } finally {
      // Should the check fail, this test's recorders do not outlive it either.
      for (const pid of survivors()) process.kill(pid, 'SIGKILL');
    }
    console.log(`[recording] media server SIGKILLed: its ${pids.length} recorder processes ended`);
  });
});

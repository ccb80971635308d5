// The admin dashboard against a real call: the live call in the active-calls table, its detail
// page with per-track quality charts, and CSV exports whose rows match the calls made.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestPage } from '../browser.js';
import {
  captureDownloads,
  DEMO,
  DEMO_PASSWORD,
  downloads,
  fill,
  parseCsv,
  remoteVideoFrames,
  screenshots,
  unlabelledControls,
  waitForSelector,
  waitForText,
} from './app-page.js';
import { waitFor } from '@telemed/test-kit';
import { patientAndDoctor, signInAdmin } from './fixture.js';

describe('the admin dashboard watching real calls in chromium', () => {
  const f = patientAndDoctor();
  let alice: TestPage;
  let grey: TestPage;
  let admin: TestPage;
  let callId = '';

  beforeAll(async () => {
    ({ alice, grey } = f);
    admin = await signInAdmin(f);
  });

  it('shows the running call in the live active-calls table and its quality charts', async () => {
    await alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Video call"]');
    await waitForSelector(grey, '[data-testid=incoming-call]');
    await grey.click('[data-testid=incoming-call] button.success');
    await waitForSelector(grey, '#join-call');
    callId = await grey.evaluate(() => /\/call\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');
    expect(callId).toMatch(/^[0-9a-f-]{36}$/);
    await grey.click('#join-call');
    await Promise.all([alice, grey].map((page) => waitFor('remote video', async () => (await remoteVideoFrames(page)).frames > 0, { timeoutMs: 30_000 })));

    // Polled every 3 s: the call shows up without a manual refresh.
    await waitForSelector(admin, `#active-calls [data-row="${callId}"]`, 10_000);
    await waitForText(admin, '[data-stat=active] .stat-value', /^1$/);
    await waitForText(admin, '[data-stat=online] .stat-value', /^2$/);
    expect(await admin.text(`#active-calls [data-row="${callId}"]`)).toContain('Alice Patient');
    expect(await unlabelledControls(admin)).toEqual([]);
    const dashboard = await screenshots(admin, 'admin-dashboard');
    console.log(`[apps] screenshots: ${dashboard.join(', ')}`);

    // The live quality table: the latest sample of each of the call's tracks, sortable.
    await admin.click('#tab-quality');
    const tracks = await waitFor(
      'live quality rows for the call',
      async () => {
        const n = await admin.evaluate(
          (id) => [...document.querySelectorAll<HTMLElement>('#quality-live [data-row]')].filter((r) => r.dataset.row?.startsWith(id)).length,
          callId,
        );
        return n > 0 ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    console.log(`[apps] live quality table: ${tracks} track rows for the call`);
    await fill(admin, '#quality-kind', 'video');
    expect(
      await admin.evaluate(() => [...document.querySelectorAll('#quality-live td[data-label=Track]')].every((td) => td.textContent?.startsWith('video'))),
    ).toBe(true);
    await screenshots(admin, 'admin-quality');
    await admin.click('#tab-users');
    await waitFor('the users table', async () => (await admin.evaluate(() => document.querySelectorAll('#online-users [data-row]').length)) > 0);
    await admin.click('#tab-active');
    await waitForSelector(admin, `#active-calls [data-call-link="${callId}"]`);
    await admin.click(`#active-calls [data-call-link="${callId}"]`);
    await waitForSelector(admin, '[data-testid=call-detail]');
    await waitForText(admin, '[data-testid=detail-status]', /active/);
    // The timeline comes from the server: lifecycle steps and the media room's joins.
    const steps = await waitFor('both room joins in the timeline', async () => {
      const lines = await admin.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('[data-testid=timeline] li')].map((li) => ({ kind: li.dataset.kind ?? '', text: li.textContent ?? '' })),
      );
      return lines.filter((l) => l.kind === 'media_joined').length === 2 ? lines : undefined;
    });
    console.log(`[apps] call timeline: ${steps.map((s) => s.text.replace(/^\S+ (AM|PM)? ?/, '')).join(' | ')}`);
    expect(steps.map((s) => s.kind).slice(0, 3)).toEqual(['created', 'invited', 'accepted']);
    expect(
      steps
        .filter((s) => s.kind === 'media_joined')
        .map((s) => s.text)
        .join(),
    ).toMatch(/Alice Patient joined the room.*Meredith Grey joined the room|Meredith Grey joined the room.*Alice Patient joined the room/);
    // Alice's signaling socket drops (media server fault injection) and her SDK resumes the session:
    // the media server reports it and the timeline says so, with the time she was away.
    const aliceId = await alice.evaluate(() => (JSON.parse(sessionStorage.getItem('telemed.session') ?? '{}') as { user: { id: string } }).user.id);
    const drop = await fetch(`${f.platform.mediaHttpUrl}/rooms/${callId}/participants/${aliceId}/drop-signaling`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.platform.secrets.serviceSecret}` },
    });
    expect(drop.status).toBe(200);
    const reconnected = await waitFor(
      'the reconnection in the timeline',
      async () => {
        const lines = await admin.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('[data-testid=timeline] li[data-kind=reconnected]')].map((li) => li.textContent ?? ''),
        );
        return lines.length > 0 ? lines : undefined;
      },
      { timeoutMs: 20_000 },
    );
    console.log(`[apps] timeline after a dropped socket: ${reconnected.join(' | ')}`);
    expect(reconnected).toHaveLength(1);
    expect(reconnected[0]).toMatch(/Alice Patient reconnected \(signaling, (\d+ ms|\d+\.\d s) offline\)$/);
    // Quality samples arrive from the media server (and the SDK) every few seconds.
    const charts = await waitFor(
      'quality charts with points',
      async () => {
        const found = await admin.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('.chart')].map((c) => ({
            metric: c.dataset.metric,
            points: Number(c.dataset.points),
            canvas: !!c.querySelector('canvas'),
          })),
        );
        const clientLines = await admin.evaluate(
          () => [...document.querySelectorAll('.chart[data-metric=bitrate] .u-legend .u-label')].filter((l) => l.textContent?.includes('(client)')).length,
        );
        return found.some((c) => c.metric === 'bitrate' && c.points >= 2 && c.canvas) && clientLines > 0 ? found : undefined;
      },
      { timeoutMs: 45_000 },
    );
    console.log(`[apps] call detail charts: ${JSON.stringify(charts)}; samples: ${await admin.text('[data-testid=sample-count]')}`);
    // One participant's audio or video at a time: its lines are the send and receive sides as the
    // server and the browser saw them.
    const legend = (): Promise<string[]> =>
      admin.evaluate(() =>
        [...document.querySelectorAll('.chart[data-metric=bitrate] .u-legend .u-label')].map((l) => l.textContent ?? '').filter((l) => l.endsWith(')')),
      );
    const options = await admin.evaluate(() =>
      [...document.querySelectorAll<HTMLOptionElement>('#chart-track option')].map((o) => ({ value: o.value, label: o.textContent ?? '' })),
    );
    console.log(`[apps] chart track picker: ${options.map((o) => o.label).join(', ')}`);
    expect(options.map((o) => o.label)).toEqual(expect.arrayContaining(['Alice Patient · video', 'Dr. Meredith Grey · video', 'Alice Patient · audio']));
    const greyVideo = options.find((o) => o.label === 'Dr. Meredith Grey · video')!;
    await fill(admin, '#chart-track', greyVideo.value);
    // The page polls: the doctor's own SDK samples may land a poll after the server's.
    const greyLines = await waitFor(
      "the doctor's video lines from both sides",
      async () => {
        const labels = await legend();
        const both = labels.some((l) => l.endsWith('(client)')) && labels.some((l) => l.endsWith('(server)'));
        return both && labels.every((l) => l.startsWith('Dr. Meredith Grey video')) ? labels : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(greyLines.every((l) => l.startsWith('Dr. Meredith Grey video'))).toBe(true);
    const detail = await screenshots(admin, 'admin-call-detail');
    console.log(`[apps] screenshots: ${detail.join(', ')}`);

    await captureDownloads(admin);
    await admin.click('#export-call-quality');
    const [qualityFile] = await waitFor('the quality CSV download', async () => ((await downloads(admin)).length === 1 ? downloads(admin) : undefined));
    const samples = parseCsv(qualityFile!.text);
    console.log(`[apps] ${qualityFile!.name}: ${samples.length} samples`);
    expect(qualityFile!.name).toBe(`telemed-call-${callId}-quality.csv`);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.call_id === callId && Number(s.bitrate_bps) >= 0)).toBe(true);
    const sides = [...new Set(samples.map((s) => s.source))].sort();
    console.log(`[apps] sample sides: ${sides.join(', ')}; client samples: ${samples.filter((s) => s.source === 'client').length}`);
    expect(sides).toEqual(['client', 'server']);
  });

  it('exports the filtered call history as CSV whose rows match the calls made', async () => {
    await alice.click('#leave-call');
    const duration = await waitForText(alice, '[data-testid=ended-duration]', /^\d+:\d\d$/);
    // A second call, declined, so the export has more than one kind of row.
    await alice.click('[data-testid=call-ended] button');
    await alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Voice call"]');
    await waitForSelector(grey, '[data-testid=incoming-call]');
    await grey.click('[data-testid=incoming-call] button.danger');
    await waitForText(alice, '#ended-title', /declined/);

    await admin.goto(`${f.platform.apiUrl}/admin/#/`);
    await waitForSelector(admin, '#tab-history');
    await admin.click('#tab-history');
    await waitFor('both calls in the history', async () => (await admin.evaluate(() => document.querySelectorAll('#call-history [data-row]').length)) === 2);
    // Sorting by duration puts the declined call (no duration) first, then the ended one.
    await admin.click('#call-history [data-sort=duration]');
    const order = await admin.evaluate(() => [...document.querySelectorAll<HTMLElement>('#call-history [data-row]')].map((r) => r.dataset.row));
    expect(order[1]).toBe(callId);
    await fill(admin, '#filter-status', 'ended');
    await waitFor(
      'the filter to apply',
      async () =>
        (await admin.evaluate(() => [...document.querySelectorAll<HTMLElement>('#call-history [data-row]')].map((r) => r.dataset.row))).join() === callId,
    );
    const history = await screenshots(admin, 'admin-history');
    console.log(`[apps] screenshots: ${history.join(', ')}`);

    await captureDownloads(admin);
    await admin.click('#export-calls');
    const file = await waitFor('the history CSV download', async () => (await downloads(admin)).find((d) => d.name.startsWith('telemed-calls-')));
    const rows = parseCsv(file.text);
    console.log(
      `[apps] ${file.name}: ${JSON.stringify(rows.map((r) => ({ id: r.call_id, status: r.status, duration: r.duration_seconds, participants: r.participants })))}`,
    );
    expect(rows).toHaveLength(1);
    const [minutes, seconds] = duration.split(':').map(Number) as [number, number];
    expect(rows[0]).toMatchObject({ call_id: callId, type: 'video', status: 'ended', duration_seconds: String(minutes * 60 + seconds) });
    expect(rows[0]!.participants).toContain('Alice Patient');
    expect(rows[0]!.participants).toContain('Dr. Meredith Grey');

    await fill(admin, '#filter-status', '');
    await waitFor('both calls again', async () => (await admin.evaluate(() => document.querySelectorAll('#call-history [data-row]').length)) === 2);
    await admin.click('#export-calls');
    const all = await waitFor('the unfiltered export', async () => {
      const files = (await downloads(admin)).filter((d) => d.name.startsWith('telemed-calls-'));
      return files.length === 2 ? parseCsv(files[1]!.text) : undefined;
    });
    expect(all.map((r) => r.status).sort()).toEqual(['declined', 'ended']);
  });

  it('pages the call history and picks up new calls with the refresh button', async () => {
    // Eleven more calls, made through the REST API as the patient's app would, each cancelled.
    const login = await fetch(`${f.platform.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO.alice, password: DEMO_PASSWORD }),
    });
    const session = (await login.json()) as { accessToken: string };
    const api = (path: string, body: unknown) =>
      fetch(`${f.platform.apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
        body: JSON.stringify(body),
      });
    const greyId = await grey.evaluate(() => (JSON.parse(sessionStorage.getItem('telemed.session') ?? '{}') as { user: { id: string } }).user.id);
    const made: string[] = [];
    for (let i = 0; i < 11; i++) {
      const call = (await (await api('/api/calls', { type: 'voice', inviteeIds: [greyId] })).json()) as { id: string };
      expect((await api(`/api/calls/${call.id}/cancel`, {})).status).toBe(200);
      made.push(call.id);
    }
    await admin.click('button[aria-label="Refresh call history"]');
    await waitForText(admin, '#call-history ~ .pager, .pager', /Page 1 of 2/);
    const rowIds = (): Promise<string[]> =>
      admin.evaluate(() => [...document.querySelectorAll<HTMLElement>('#call-history [data-row]')].map((r) => r.dataset.row ?? ''));
    const first = await rowIds();
    await admin.click('.pager button[aria-label="Next page"]');
    await waitForText(admin, '.pager', /Page 2 of 2/);
    const second = await rowIds();
    console.log(`[apps] history pages: ${first.length} + ${second.length} rows`);
    expect(first).toHaveLength(10);
    expect(new Set([...first, ...second]).size).toBe(13);
    expect([...first, ...second]).toEqual(expect.arrayContaining([...made, callId]));
  });

  it('ran without page or server errors', () => {
    for (const page of [alice, grey, admin]) expect(page.errors).toEqual([]);
    expect(f.platform.serverErrors).toEqual([]);
  });
});

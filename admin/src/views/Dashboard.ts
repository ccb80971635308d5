// Statistics cards and the live tables: active calls, online users, call history, quality.
import type { Call, CallStatus, CallType, Presence, User } from '@telemed/sdk';
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { allCalls, type AdminBackend, type CallFilter } from '../backend.js';
import { downloadFile, toCsv } from '../csv.js';
import { formatDateTime, formatNumber, startOfToday } from '../format.js';
import { CALL_COLUMNS, CALL_CSV, SAMPLE_CSV, sampleColumns, type CallSample } from './columns.js';
import { DataTable, type Column } from './DataTable.js';
import { usePolling, type Polled } from './usePolling.js';

const LIVE_MS = 3000;
const TABS = [
  { id: 'active', label: 'Active calls' },
  { id: 'users', label: 'Online users' },
  { id: 'history', label: 'Call history' },
  { id: 'quality', label: 'Quality metrics' },
] as const;
type TabId = (typeof TABS)[number]['id'];

type UserRow = User & { presence: Presence | undefined; presenceKnown: boolean };

export function Dashboard({ backend }: { backend: AdminBackend }) {
  const [tab, setTab] = useState<TabId>('active');
  const active = usePolling(() => backend.calls({ status: 'active' }, { limit: 100 }).then((p) => p.items), LIVE_MS, [backend]);
  const today = usePolling(() => allCalls(backend, { from: startOfToday().toISOString() }, 2000), 10_000, [backend]);
  const users = usePolling(
    async (): Promise<UserRow[]> => {
      const list = await backend.users();
      const presence = await backend.presence(list.map((u) => u.id));
      const byId = new Map((presence ?? []).map((p) => [p.userId, p]));
      return list.map((u) => ({ ...u, presence: byId.get(u.id), presenceKnown: presence !== undefined }));
    },
    5000,
    [backend],
  );
  // A call starting or ending changes today's figures too: reload them at once.
  const activeIds = (active.data ?? []).map((c) => c.id).join();
  useEffect(() => today.refresh(), [activeIds]);
  const names = useMemo(() => new Map((users.data ?? []).map((u) => [u.id, u.displayName])), [users.data]);

  return html`
    <main class="dashboard">
      <${StatsCards} active=${active.data} today=${today.data} />
      <div class="tabs" role="tablist" aria-label="Tables">
        ${TABS.map(
          (t) => html`<button key=${t.id} type="button" role="tab" id=${`tab-${t.id}`} aria-selected=${tab === t.id ? 'true' : 'false'}
          aria-controls=${`panel-${t.id}`} tabindex=${tab === t.id ? 0 : -1} onClick=${() => setTab(t.id)}
          onKeyDown=${(e: KeyboardEvent) => arrowTabs(e, tab, setTab)}>${t.label}</button>`,
        )}
      </div>
      <section class="tab-panel" role="tabpanel" id=${`panel-${tab}`} aria-labelledby=${`tab-${tab}`}>
        ${
          tab === 'active' &&
          html`<${Live} title="Active calls" polled=${active}>
            <${DataTable} id="active-calls" caption="Active calls" rows=${active.data ?? []} columns=${CALL_COLUMNS} rowKey=${(c: Call) => c.id}
              empty="No call is running." initialSort=${{ key: 'created', dir: 'desc' }} /><//>`
        }
        ${tab === 'users' && html`<${OnlineUsers} polled=${users} />`}
        ${tab === 'history' && html`<${History} backend=${backend} />`}
        ${tab === 'quality' && html`<${LiveQualityTable} backend=${backend} names=${names} />`}
      </section>
    </main>`;
}

function arrowTabs(e: KeyboardEvent, current: TabId, set: (t: TabId) => void): void {
  const index = TABS.findIndex((t) => t.id === current);
  const next = e.key === 'ArrowRight' ? index + 1 : e.key === 'ArrowLeft' ? index - 1 : undefined;
  if (next === undefined) return;
  const tab = TABS[(next + TABS.length) % TABS.length]!;
  set(tab.id);
  document.getElementById(`tab-${tab.id}`)?.focus();
}

function StatsCards({ active, today }: { active: Call[] | undefined; today: Call[] | undefined }) {
  // People connected to a running call's media right now.
  const online = active?.reduce((n, c) => n + c.participants.filter((p) => p.inRoom).length, 0);
  const scores = (today ?? []).map((c) => c.qualitySummary?.medianScore).filter((s): s is number => typeof s === 'number');
  const average = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
  const failed = today?.filter((c) => c.status === 'missed' || c.status === 'declined').length;
  const cards: { id: string; label: string; value: string }[] = [
    { id: 'active', label: 'Active calls', value: active ? String(active.length) : '…' },
    { id: 'online', label: 'Participants in calls', value: online === undefined ? '…' : String(online) },
    { id: 'today', label: 'Calls today', value: today ? String(today.length) : '…' },
    { id: 'quality', label: 'Average quality (score)', value: today ? formatNumber(average) : '…' },
    { id: 'failed', label: 'Missed / declined today', value: failed === undefined ? '…' : String(failed) },
  ];
  return html`
    <section class="cards" aria-label="Statistics">
      ${cards.map((c) => html`<div key=${c.id} class="stat" data-stat=${c.id}><span class="stat-value">${c.value}</span><span class="stat-label">${c.label}</span></div>`)}
    </section>`;
}

function Live<T>({ title, polled, actions, children }: { title: string; polled: Polled<T>; actions?: ComponentChildren; children: ComponentChildren }) {
  return html`
    <div class="live">
      <div class="toolbar-row">
        <h2>${title}</h2>
        <span class="updated" aria-live="polite">${polled.error ? html`<span class="error" role="alert">${polled.error}</span>` : polled.updatedAt ? `Updated ${polled.updatedAt.toLocaleTimeString()}` : 'Loading…'}</span>
        ${actions}
        <button type="button" onClick=${polled.refresh} disabled=${polled.loading} aria-label=${`Refresh ${title.toLowerCase()}`}>↻ Refresh</button>
      </div>
      ${children}
    </div>`;
}

const USER_COLUMNS: Column<UserRow>[] = [
  { key: 'name', label: 'Name', render: (u) => u.displayName, sortValue: (u) => u.displayName },
  { key: 'email', label: 'Email', render: (u) => u.email, sortValue: (u) => u.email },
  { key: 'role', label: 'Role', render: (u) => u.role, sortValue: (u) => u.role },
  {
    key: 'status',
    label: 'Status',
    render: (u) =>
      u.presenceKnown
        ? html`<span class=${`dot presence-${u.presence?.status ?? 'offline'}`} aria-hidden="true"></span> ${u.presence?.status ?? 'offline'}`
        : 'unknown',
    sortValue: (u) => u.presence?.status ?? 'offline',
  },
  { key: 'seen', label: 'Last seen', render: (u) => formatDateTime(u.presence?.lastSeenAt ?? null), sortValue: (u) => u.presence?.lastSeenAt ?? '' },
];

function OnlineUsers({ polled }: { polled: Polled<UserRow[]> }) {
  const [showAll, setShowAll] = useState(false);
  const known = polled.data?.[0]?.presenceKnown !== false;
  const rows = (polled.data ?? []).filter((u) => showAll || !known || (u.presence && u.presence.status !== 'offline'));
  return html`<${Live} title="Online users" polled=${polled} actions=${html`
      <label class="inline"><input type="checkbox" checked=${showAll} onChange=${(e: Event) => setShowAll((e.target as HTMLInputElement).checked)} /> Show offline</label>`}>
    ${!known && html`<p class="hint" role="note">This server does not give admins presence yet: every user is listed, status unknown.</p>`}
    <${DataTable} id="online-users" caption="Users" rows=${rows} columns=${USER_COLUMNS} rowKey=${(u: UserRow) => u.id} empty="Nobody is online." initialSort=${{ key: 'name', dir: 'asc' }} /><//>`;
}

const STATUSES: CallStatus[] = ['scheduled', 'ringing', 'active', 'ended', 'missed', 'declined', 'cancelled'];
const TYPES: CallType[] = ['video', 'voice'];

function History({ backend }: { backend: AdminBackend }) {
  const [filter, setFilter] = useState<CallFilter>({});
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | undefined>();
  const polled = usePolling(() => allCalls(backend, filter, 1000), 15_000, [backend, filter]);
  const set = (patch: Partial<CallFilter>): void => setFilter((f) => ({ ...f, ...patch }));
  const dateValue = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : '');
  const exportCsv = async (): Promise<void> => {
    setExporting(true);
    setExportError(undefined);
    try {
      const calls = await allCalls(backend, filter);
      downloadFile(`telemed-calls-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`, toCsv(calls, CALL_CSV));
    } catch (e) {
      setExportError(e instanceof Error ? e.message : String(e));
    } finally {
      setExporting(false);
    }
  };
  return html`<${Live} title="Call history" polled=${polled} actions=${html`
      <button type="button" id="export-calls" onClick=${() => void exportCsv()} disabled=${exporting}>⤓ Export CSV</button>`}>
    <form class="filters" aria-label="Filter call history" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Status <select id="filter-status" value=${filter.status ?? ''} onChange=${(e: Event) => set({ status: ((e.target as HTMLSelectElement).value || undefined) as CallStatus | undefined })}>
        <option value="">Any</option>${STATUSES.map((s) => html`<option key=${s} value=${s}>${s}</option>`)}</select></label>
      <label>Type <select id="filter-type" value=${filter.type ?? ''} onChange=${(e: Event) => set({ type: ((e.target as HTMLSelectElement).value || undefined) as CallType | undefined })}>
        <option value="">Any</option>${TYPES.map((t) => html`<option key=${t} value=${t}>${t}</option>`)}</select></label>
      <label>From <input id="filter-from" type="date" value=${dateValue(filter.from)} onChange=${(e: Event) => {
        const v = (e.target as HTMLInputElement).value;
        set({ from: v ? new Date(`${v}T00:00:00`).toISOString() : undefined });
      }} /></label>
      <label>To <input id="filter-to" type="date" value=${dateValue(filter.to)} onChange=${(e: Event) => {
        const v = (e.target as HTMLInputElement).value;
        set({ to: v ? new Date(`${v}T23:59:59.999`).toISOString() : undefined });
      }} /></label>
    </form>
    ${exportError && html`<p class="error" role="alert">${exportError}</p>`}
    <${DataTable} id="call-history" caption="Call history" rows=${polled.data ?? []} columns=${CALL_COLUMNS} rowKey=${(c: Call) => c.id}
      empty="No calls match." initialSort=${{ key: 'created', dir: 'desc' }} /><//>`;
}

function LiveQualityTable({ backend, names }: { backend: AdminBackend; names: ReadonlyMap<string, string> }) {
  const [kind, setKind] = useState('');
  const polled = usePolling(
    async (): Promise<CallSample[]> => (await backend.liveQuality()).flatMap((c) => c.samples.map((s) => ({ ...s, callId: c.callId }))),
    LIVE_MS,
    [backend],
  );
  const rows = (polled.data ?? []).filter((s) => !kind || s.kind === kind);
  const columns = useMemo(() => sampleColumns(names), [names]);
  return html`<${Live} title="Quality metrics (live, latest per track)" polled=${polled} actions=${html`
      <label class="inline">Kind <select id="quality-kind" value=${kind} onChange=${(e: Event) => setKind((e.target as HTMLSelectElement).value)}>
        <option value="">All</option><option value="audio">audio</option><option value="video">video</option></select></label>
      <button type="button" id="export-quality" onClick=${() => downloadFile(`telemed-quality-live-${Date.now()}.csv`, toCsv(rows, SAMPLE_CSV))}>⤓ Export CSV</button>`}>
    <${DataTable} id="quality-live" caption="Live quality" rows=${rows} columns=${columns} rowKey=${(s: CallSample) => `${s.callId}|${s.trackId}|${s.source}|${s.direction}`}
      empty="No samples from running calls." initialSort=${{ key: 'score', dir: 'asc' }} /><//>`;
}

// The audit log: who touched record X, what did user Y do, in a date range; newest first, page by page.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditRow } from '@telemed/sdk';
import type { AdminBackend, AuditFilter } from '../backend.js';
import { formatDateTime } from '../format.js';
import { useAction } from './useAction.js';

const ACTIONS = [
  'read',
  'create',
  'update',
  'delete',
  'download',
  'upload',
  'login',
  'logout',
  'login_failed',
  'token_reuse',
  'denied',
  'invite',
  'password_reset',
  'password_set',
  'disable',
  'enable',
  'link',
  'unlink',
];
const PAGE = 50;

/** The filter a `#/audit?entityId=…&actorId=…` link asks for. */
export function auditFilterFrom(params: URLSearchParams): AuditFilter {
  const filter: AuditFilter = {};
  for (const key of ['entityId', 'actorId', 'action', 'from', 'to'] as const) {
    const value = params.get(key);
    if (value) filter[key] = value;
  }
  return filter;
}

/** The record of a row: its id, the ids of a few (a care link: doctor and patient), or how many (a page read). */
function recordText(r: AuditRow): string {
  if (r.entityId !== '*') return r.entityId;
  const ids = r.entityIds ?? [];
  return ids.length <= 3 ? ids.join(', ') : `(${ids.length} records)`;
}

export function AuditLog({ backend, initial }: { backend: AdminBackend; initial: AuditFilter }) {
  const [filter, setFilter] = useState<AuditFilter>(initial);
  const [rows, setRows] = useState<AuditRow[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = useAction();
  const fetchPage = (f: AuditFilter, after: string | null): void => {
    void load.run(async () => {
      const page = await backend.audit(f, { limit: PAGE, ...(after ? { cursor: after } : {}) });
      setRows((previous) => (after ? [...previous, ...page.items] : page.items));
      setCursor(page.nextCursor);
    });
  };
  useEffect(() => fetchPage(filter, null), [backend, filter]);

  const submit = (e: Event): void => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string): string | undefined => String(data.get(name) ?? '').trim() || undefined;
    const day = (name: string, end: boolean): string | undefined => {
      const value = text(name);
      return value ? new Date(`${value}T${end ? '23:59:59.999' : '00:00:00'}`).toISOString() : undefined;
    };
    const next: AuditFilter = {};
    const entries: Array<[keyof AuditFilter, string | undefined]> = [
      ['entityId', text('entityId')],
      ['actorId', text('actorId')],
      ['action', text('action')],
      ['from', day('from', false)],
      ['to', day('to', true)],
    ];
    for (const [key, value] of entries) if (value) next[key] = value;
    setFilter(next);
  };

  return html`
    <main class="dashboard" data-testid="audit">
      <section class="tab-panel" aria-labelledby="audit-title">
        <h2 id="audit-title">Audit log</h2>
        <form class="filters" id="audit-filter" onSubmit=${submit}>
          <label>Record id <input name="entityId" id="audit-entity" value=${filter.entityId ?? ''} maxlength="200" /></label>
          <label>Actor (user id) <input name="actorId" id="audit-actor" value=${filter.actorId ?? ''} maxlength="36" /></label>
          <label>Action <select name="action" id="audit-action" value=${filter.action ?? ''}><option value="">Any</option>${ACTIONS.map((a) => html`<option key=${a} value=${a}>${a}</option>`)}</select></label>
          <label>From <input type="date" name="from" id="audit-from" value=${filter.from ? filter.from.slice(0, 10) : ''} /></label>
          <label>To <input type="date" name="to" id="audit-to" value=${filter.to ? filter.to.slice(0, 10) : ''} /></label>
          <button type="submit" class="primary">Search</button>
        </form>
        ${load.error && html`<p class="error" role="alert">${load.error}</p>`}
        <div class="table-wrap">
          <table id="audit-table" data-testid="audit-table">
            <caption class="sr-only">Audit log</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Record</th><th scope="col">From</th></tr></thead>
            <tbody>
              ${
                rows.length === 0
                  ? html`<tr><td colspan="5" class="empty">${load.busy ? 'Loading…' : 'No audit rows match.'}</td></tr>`
                  : rows.map(
                      (r) => html`<tr key=${r.id} data-row=${r.id} data-action=${r.action}>
                  <td data-label="Time">${formatDateTime(r.at)}</td>
                  <td data-label="Actor">${r.actorId ? html`<a href=${`#/audit?actorId=${r.actorId}`} title=${r.actorId}>${r.actorName ?? r.actorId}</a>` : '—'}</td>
                  <td data-label="Action">${r.action}</td>
                  <td data-label="Record" class="record">${r.entityType} ${recordText(r)}</td>
                  <td data-label="From">${r.ip ?? '—'}</td>
                </tr>`,
                    )
              }
            </tbody>
          </table>
        </div>
        ${cursor && html`<div class="pager"><button type="button" id="audit-more" disabled=${load.busy} onClick=${() => fetchPage(filter, cursor)}>Load more</button></div>`}
      </section>
    </main>`;
}

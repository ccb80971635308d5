// A sortable table with client-side paging. Sorting is by a column's `sortValue`.
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ComponentChildren;
  sortValue?: (row: T) => string | number;
}

export interface DataTableProps<T> {
  id: string;
  caption: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  pageSize?: number;
  empty: string;
  initialSort?: { key: string; dir: 'asc' | 'desc' };
}

export function DataTable<T>({ id, caption, rows, columns, rowKey, pageSize = 10, empty, initialSort }: DataTableProps<T>) {
  const [sort, setSort] = useState(initialSort);
  const [page, setPage] = useState(0);
  const sorted = useMemo(() => {
    const column = columns.find((c) => c.key === sort?.key);
    if (!column?.sortValue || !sort) return rows;
    const get = column.sortValue;
    const dir = sort.dir === 'asc' ? 1 : -1;
    return [...rows].sort((a, b) => {
      const x = get(a);
      const y = get(b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }, [rows, columns, sort]);
  const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
  const current = Math.min(page, pages - 1);
  const visible = sorted.slice(current * pageSize, (current + 1) * pageSize);

  const toggle = (key: string): void => {
    setSort((s) => (s?.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }));
  };

  return html`
    <div class="table-wrap">
      <table id=${id} data-testid=${id}>
        <caption class="sr-only">${caption}</caption>
        <thead><tr>
          ${columns.map((c) => {
            const active = sort?.key === c.key;
            const ariaSort = active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
            return html`<th key=${c.key} scope="col" aria-sort=${c.sortValue ? ariaSort : undefined}>
              ${
                c.sortValue
                  ? html`<button type="button" class="sort" onClick=${() => toggle(c.key)} data-sort=${c.key}>
                ${c.label}<span aria-hidden="true">${active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span></button>`
                  : c.label
              }
            </th>`;
          })}
        </tr></thead>
        <tbody>
          ${
            visible.length === 0
              ? html`<tr><td colspan=${columns.length} class="empty">${empty}</td></tr>`
              : visible.map(
                  (row) =>
                    html`<tr key=${rowKey(row)} data-row=${rowKey(row)}>${columns.map((c) => html`<td key=${c.key} data-label=${c.label}>${c.render(row)}</td>`)}</tr>`,
                )
          }
        </tbody>
      </table>
      ${
        pages > 1 &&
        html`
        <nav class="pager" aria-label=${`${caption} pages`}>
          <button type="button" disabled=${current === 0} onClick=${() => setPage(current - 1)} aria-label="Previous page">‹</button>
          <span aria-live="polite">Page ${current + 1} of ${pages}</span>
          <button type="button" disabled=${current >= pages - 1} onClick=${() => setPage(current + 1)} aria-label="Next page">›</button>
        </nav>`
      }
    </div>`;
}

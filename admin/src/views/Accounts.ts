// Accounts: create patients, doctors and admins by invitation, edit names and roles, disable and
// enable, send password-reset links.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { AdminUser, Invitation, Role } from '@telemed/sdk';
import type { AdminBackend } from '../backend.js';
import { formatDateTime } from '../format.js';
import { DataTable, type Column } from './DataTable.js';
import { useAction } from './useAction.js';
import { usePolling } from './usePolling.js';

const ROLES: Role[] = ['patient', 'doctor', 'admin'];

function LinkNotice({ who, invitation }: { who: string; invitation: Invitation }) {
  const what = invitation.purpose === 'invite' ? 'An invitation' : 'A password-reset link';
  return html`<div class="notice" role="status" data-testid="link-notice">
    ${
      invitation.mailed
        ? html`<p>${what} was e-mailed to ${who}. It works once, until ${formatDateTime(invitation.expiresAt)}.</p>`
        : html`<p>${what} for ${who} could not be e-mailed. Hand this link over yourself (it works once, until ${formatDateTime(invitation.expiresAt)}):</p>
        <input class="link" readonly value=${invitation.url ?? ''} aria-label="Set-password link" data-testid="invite-url" onFocus=${(e: Event) => (e.target as HTMLInputElement).select()} />`
    }
  </div>`;
}

export function Accounts({ backend }: { backend: AdminBackend }) {
  const [search, setSearch] = useState('');
  const users = usePolling(() => backend.accounts(search.trim() || undefined), 15_000, [backend, search]);
  const [notice, setNotice] = useState<{ who: string; invitation: Invitation } | undefined>();
  const [editing, setEditing] = useState<string | undefined>();
  const create = useAction();
  const rowAction = useAction();

  const submitNew = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const input = { email: String(data.get('email')), displayName: String(data.get('displayName')), role: String(data.get('role')) as Role };
    const ok = await create.run(async () => {
      const created = await backend.createAccount(input);
      setNotice({ who: created.user.email, invitation: created.invitation });
    });
    if (ok) {
      form.reset();
      users.refresh();
    }
  };
  const act = (work: () => Promise<unknown>): void => void rowAction.run(work).then((ok) => ok && users.refresh());
  const reset = (u: AdminUser): void => act(async () => setNotice({ who: u.email, invitation: await backend.resetPassword(u.id) }));

  const columns: Column<AdminUser>[] = [
    {
      key: 'name',
      label: 'Name',
      render: (u) =>
        editing === u.id
          ? html`<${EditForm} user=${u} onSave=${(patch: { displayName: string; role: Role }) =>
              act(async () => {
                await backend.editAccount(u.id, patch);
                setEditing(undefined);
              })} onCancel=${() => setEditing(undefined)} />`
          : u.displayName,
      sortValue: (u) => u.displayName,
    },
    { key: 'email', label: 'Email', render: (u) => u.email, sortValue: (u) => u.email },
    { key: 'role', label: 'Role', render: (u) => u.role, sortValue: (u) => u.role },
    {
      key: 'status',
      label: 'Status',
      render: (u) => html`<span class=${`account-${u.status}`} data-status=${u.status}>${u.status}</span>`,
      sortValue: (u) => u.status,
    },
    {
      key: 'actions',
      label: 'Actions',
      render: (u) => html`<div class="row-actions">
        <button type="button" onClick=${() => setEditing(u.id)} aria-label=${`Edit ${u.displayName}`} data-action="edit">Edit</button>
        ${
          u.status === 'disabled'
            ? html`<button type="button" onClick=${() => act(() => backend.setDisabled(u.id, false))} aria-label=${`Enable ${u.displayName}`} data-action="enable">Enable</button>`
            : html`<button type="button" class="danger" onClick=${() => act(() => backend.setDisabled(u.id, true))} aria-label=${`Disable ${u.displayName}`} data-action="disable">Disable</button>
            <button type="button" onClick=${() => reset(u)} aria-label=${`${u.status === 'invited' ? 'Resend the invitation to' : 'Reset the password of'} ${u.displayName}`} data-action="reset">${u.status === 'invited' ? 'Resend invite' : 'Reset password'}</button>`
        }
        <a href=${`#/audit?entityId=${u.id}`} aria-label=${`Audit trail of ${u.displayName}`}>Audit</a>
      </div>`,
    },
  ];

  return html`
    <main class="dashboard" data-testid="accounts">
      <section class="tab-panel" aria-labelledby="new-account-title">
        <h2 id="new-account-title">New account</h2>
        <p class="hint">The person gets a one-time link by e-mail to choose a password.</p>
        <form class="filters" id="new-account" onSubmit=${(e: Event) => void submitNew(e)}>
          <label>Email <input name="email" type="email" required maxlength="254" id="new-email" /></label>
          <label>Name <input name="displayName" required maxlength="100" id="new-name" /></label>
          <label>Role <select name="role" id="new-role">${ROLES.map((r) => html`<option key=${r} value=${r}>${r}</option>`)}</select></label>
          <button type="submit" class="primary" disabled=${create.busy}>${create.busy ? 'Creating…' : 'Create and invite'}</button>
        </form>
        ${create.error && html`<p class="error" role="alert">${create.error}</p>`}
        ${notice && html`<${LinkNotice} who=${notice.who} invitation=${notice.invitation} />`}
      </section>
      <section class="tab-panel" aria-labelledby="accounts-title">
        <div class="toolbar-row">
          <h2 id="accounts-title">Accounts</h2>
          <label class="inline">Search <input type="search" id="account-search" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} /></label>
        </div>
        ${(users.error || rowAction.error) && html`<p class="error" role="alert">${rowAction.error ?? users.error}</p>`}
        <${DataTable} id="accounts-table" caption="Accounts" rows=${users.data ?? []} columns=${columns} rowKey=${(u: AdminUser) => u.id}
          empty=${users.data ? 'No account matches.' : 'Loading…'} initialSort=${{ key: 'name', dir: 'asc' }} pageSize=${25} />
      </section>
    </main>`;
}

function EditForm({ user, onSave, onCancel }: { user: AdminUser; onSave: (patch: { displayName: string; role: Role }) => void; onCancel: () => void }) {
  const [name, setName] = useState(user.displayName);
  const [role, setRole] = useState<Role>(user.role);
  return html`<form class="edit-form" onSubmit=${(e: Event) => {
    e.preventDefault();
    onSave({ displayName: name, role });
  }}>
    <input value=${name} required maxlength="100" aria-label="Name" onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
    <select value=${role} aria-label="Role" onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value as Role)}>${ROLES.map((r) => html`<option key=${r} value=${r}>${r}</option>`)}</select>
    <button type="submit" class="primary">Save</button>
    <button type="button" onClick=${onCancel}>Cancel</button>
  </form>`;
}

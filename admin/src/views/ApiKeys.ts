// API keys for third-party backends: create one with scopes (its secret shown once), list, revoke.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { API_KEY_SCOPES, type ApiKey, type ApiKeyScope } from '@telemed/sdk';
import type { AdminBackend } from '../backend.js';
import { formatDateTime } from '../format.js';
import { DataTable, type Column } from './DataTable.js';
import { CheckboxGroup, SecretNotice } from './SecretNotice.js';
import { useAction } from './useAction.js';
import { usePolling } from './usePolling.js';

export function ApiKeys({ backend }: { backend: AdminBackend }) {
  const keys = usePolling(() => backend.apiKeys(), 15_000, [backend]);
  const [created, setCreated] = useState<{ name: string; secret: string } | undefined>();
  const [formKey, setFormKey] = useState(0);
  const create = useAction();
  const revoke = useAction();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const input = { name: String(data.get('name')).trim(), scopes: data.getAll('scope').map(String) as ApiKeyScope[] };
    const ok = await create.run(async () => {
      if (input.scopes.length === 0) throw new Error('Choose at least one scope.');
      const answer = await backend.createApiKey(input);
      setCreated({ name: answer.apiKey.name, secret: answer.secret });
    });
    if (ok) {
      setFormKey((k) => k + 1);
      keys.refresh();
    }
  };

  const columns: Column<ApiKey>[] = [
    { key: 'name', label: 'Name', render: (k) => k.name, sortValue: (k) => k.name },
    { key: 'prefix', label: 'Key', render: (k) => html`<code>tmk_${k.prefix}_…</code>` },
    { key: 'scopes', label: 'Scopes', render: (k) => k.scopes.join(', ') },
    { key: 'created', label: 'Created', render: (k) => formatDateTime(k.createdAt), sortValue: (k) => k.createdAt },
    { key: 'used', label: 'Last used', render: (k) => formatDateTime(k.lastUsedAt), sortValue: (k) => k.lastUsedAt ?? '' },
    {
      key: 'status',
      label: 'Status',
      render: (k) => html`<span data-status=${k.revokedAt ? 'revoked' : 'active'}>${k.revokedAt ? `revoked ${formatDateTime(k.revokedAt)}` : 'active'}</span>`,
      sortValue: (k) => (k.revokedAt ? 1 : 0),
    },
    {
      key: 'actions',
      label: 'Actions',
      render: (k) => html`<div class="row-actions">
        ${
          !k.revokedAt &&
          html`<button type="button" class="danger" data-action="revoke" aria-label=${`Revoke the API key ${k.name}`}
          onClick=${() => void revoke.run(() => backend.revokeApiKey(k.id)).then((ok) => ok && keys.refresh())}>Revoke</button>`
        }
        <a href=${`#/audit?entityId=${k.id}`} aria-label=${`Audit trail of the API key ${k.name}`}>Audit</a>
      </div>`,
    },
  ];

  return html`
    <section class="tab-panel" aria-labelledby="api-keys-title" data-testid="api-keys">
      <h2 id="api-keys-title">API keys</h2>
      <p class="hint">A backend of yours uses a key with @telemed/server-sdk or the telemed CLI: room tokens, calls, rooms, webhook tests. Give it only the scopes it needs.</p>
      <form key=${formKey} class="filters" id="new-api-key" onSubmit=${(e: Event) => void submit(e)}>
        <label>Name <input name="name" id="api-key-name" required maxlength="120" /></label>
        <${CheckboxGroup} legend="Scopes" name="scope" values=${API_KEY_SCOPES} />
        <button type="submit" class="primary" disabled=${create.busy}>${create.busy ? 'Creating…' : 'Create key'}</button>
      </form>
      ${create.error && html`<p class="error" role="alert">${create.error}</p>`}
      ${created && html`<${SecretNotice} what=${`API key ${created.name}`} secret=${created.secret} testId="api-key-secret" />`}
      ${(keys.error || revoke.error) && html`<p class="error" role="alert">${revoke.error ?? keys.error}</p>`}
      <${DataTable} id="api-keys-table" caption="API keys" rows=${keys.data ?? []} columns=${columns} rowKey=${(k: ApiKey) => k.id}
        empty=${keys.data ? 'No API key yet.' : 'Loading…'} initialSort=${{ key: 'created', dir: 'desc' }} />
    </section>`;
}

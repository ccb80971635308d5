// Outbound webhooks: register an endpoint for events (its signing secret shown once), list,
// disable, delete, send a test ping, and follow the delivery log.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { Webhook, WebhookDelivery } from '@telemed/sdk';
import { WEBHOOK_EVENT_TYPES } from '@telemed/server-sdk';
import type { AdminBackend } from '../backend.js';
import { formatDateTime } from '../format.js';
import { DataTable, type Column } from './DataTable.js';
import { CheckboxGroup, SecretNotice } from './SecretNotice.js';
import { useAction } from './useAction.js';
import { usePolling } from './usePolling.js';

export function Webhooks({ backend }: { backend: AdminBackend }) {
  const hooks = usePolling(() => backend.webhooks(), 15_000, [backend]);
  const [created, setCreated] = useState<{ url: string; secret: string } | undefined>();
  const [open, setOpen] = useState<Webhook | undefined>();
  const [formKey, setFormKey] = useState(0);
  const register = useAction();
  const row = useAction();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const description = String(data.get('description')).trim();
    const input = { url: String(data.get('url')).trim(), eventTypes: data.getAll('event').map(String), ...(description ? { description } : {}) };
    const ok = await register.run(async () => {
      if (input.eventTypes.length === 0) throw new Error('Choose at least one event.');
      const answer = await backend.registerWebhook(input);
      setCreated({ url: answer.webhook.url, secret: answer.secret });
    });
    if (ok) {
      setFormKey((k) => k + 1);
      hooks.refresh();
    }
  };
  const act = (work: () => Promise<unknown>): void => void row.run(work).then((ok) => ok && hooks.refresh());

  const columns: Column<Webhook>[] = [
    {
      key: 'url',
      label: 'URL',
      render: (w) => html`<code class="url">${w.url}</code>${w.description && html`<br /><span class="hint">${w.description}</span>`}`,
      sortValue: (w) => w.url,
    },
    { key: 'events', label: 'Events', render: (w) => w.eventTypes.join(', ') },
    { key: 'created', label: 'Created', render: (w) => formatDateTime(w.createdAt), sortValue: (w) => w.createdAt },
    {
      key: 'status',
      label: 'Status',
      render: (w) => html`<span data-status=${w.disabledAt ? 'disabled' : 'active'}>${w.disabledAt ? 'disabled' : 'active'}</span>`,
      sortValue: (w) => (w.disabledAt ? 1 : 0),
    },
    {
      key: 'actions',
      label: 'Actions',
      render: (w) => html`<div class="row-actions">
        <button type="button" data-action="log" aria-label=${`Delivery log of ${w.url}`} onClick=${() => setOpen(w)}>Delivery log</button>
        ${
          !w.disabledAt &&
          html`
          <button type="button" data-action="test" aria-label=${`Send a test event to ${w.url}`} onClick=${() =>
            act(async () => {
              await backend.testWebhook(w.id);
              setOpen(w);
            })}>Send test</button>
          <button type="button" class="danger" data-action="disable" aria-label=${`Disable the webhook ${w.url}`} onClick=${() => act(() => backend.disableWebhook(w.id))}>Disable</button>`
        }
        <button type="button" class="danger" data-action="delete" aria-label=${`Delete the webhook ${w.url} and its delivery log`} onClick=${() => {
          if (window.confirm(`Delete the webhook ${w.url} and its delivery log?`))
            act(async () => {
              if (open?.id === w.id) setOpen(undefined);
              await backend.deleteWebhook(w.id);
            });
        }}>Delete</button>
      </div>`,
    },
  ];

  return html`
    <section class="tab-panel" aria-labelledby="webhooks-title" data-testid="webhooks">
      <h2 id="webhooks-title">Webhooks</h2>
      <p class="hint">Call and recording events are POSTed to each endpoint, signed (Telemed-Signature, check it with verifyWebhook from @telemed/server-sdk) and retried with backoff.</p>
      <form key=${formKey} class="filters" id="new-webhook" onSubmit=${(e: Event) => void submit(e)}>
        <label>URL <input name="url" id="webhook-url" type="url" required maxlength="2000" placeholder="https://example.org/telemed-webhooks" /></label>
        <label>Description <input name="description" id="webhook-description" maxlength="200" /></label>
        <${CheckboxGroup} legend="Events" name="event" values=${WEBHOOK_EVENT_TYPES} initial=${WEBHOOK_EVENT_TYPES} />
        <button type="submit" class="primary" disabled=${register.busy}>${register.busy ? 'Registering…' : 'Register'}</button>
      </form>
      ${register.error && html`<p class="error" role="alert">${register.error}</p>`}
      ${created && html`<${SecretNotice} what=${`signing secret of ${created.url}`} secret=${created.secret} testId="webhook-secret" />`}
      ${(hooks.error || row.error) && html`<p class="error" role="alert">${row.error ?? hooks.error}</p>`}
      <${DataTable} id="webhooks-table" caption="Webhook endpoints" rows=${hooks.data ?? []} columns=${columns} rowKey=${(w: Webhook) => w.id}
        empty=${hooks.data ? 'No webhook endpoint yet.' : 'Loading…'} initialSort=${{ key: 'created', dir: 'desc' }} />
      ${open && html`<${DeliveryLog} key=${open.id} backend=${backend} webhook=${open} />`}
    </section>`;
}

function DeliveryLog({ backend, webhook }: { backend: AdminBackend; webhook: Webhook }) {
  const log = usePolling(() => backend.webhookDeliveries(webhook.id), 3_000, [backend, webhook.id]);
  const redeliver = useAction();
  const columns: Column<WebhookDelivery>[] = [
    { key: 'created', label: 'Event time', render: (d) => formatDateTime(d.createdAt), sortValue: (d) => d.createdAt },
    { key: 'type', label: 'Event', render: (d) => d.eventType, sortValue: (d) => d.eventType },
    { key: 'status', label: 'Status', render: (d) => html`<span data-status=${d.status}>${d.status}</span>`, sortValue: (d) => d.status },
    { key: 'attempts', label: 'Attempts', render: (d) => d.attempts, sortValue: (d) => d.attempts },
    { key: 'response', label: 'Response', render: (d) => (d.responseStatus === null ? '—' : String(d.responseStatus)) },
    {
      key: 'error',
      label: 'Last error',
      render: (d) => d.lastError ?? (d.status === 'pending' && d.nextAttemptAt ? `next try ${formatDateTime(d.nextAttemptAt)}` : '—'),
    },
    {
      key: 'actions',
      label: 'Actions',
      render: (d) =>
        d.status !== 'pending' &&
        html`<button type="button" data-action="redeliver" aria-label=${`Send the ${d.eventType} event again`}
        onClick=${() => void redeliver.run(() => backend.redeliver(webhook.id, d.id)).then((ok) => ok && log.refresh())}>Redeliver</button>`,
    },
  ];
  return html`<div class="delivery-log" data-webhook=${webhook.id}>
    <h3 id="deliveries-title">Delivery log of <code>${webhook.url}</code></h3>
    ${(log.error || redeliver.error) && html`<p class="error" role="alert">${redeliver.error ?? log.error}</p>`}
    <${DataTable} id="webhook-deliveries" caption=${`Deliveries to ${webhook.url}`} rows=${log.data ?? []} columns=${columns} rowKey=${(d: WebhookDelivery) => d.id}
      empty=${log.data ? 'Nothing sent yet.' : 'Loading…'} initialSort=${{ key: 'created', dir: 'desc' }} pageSize=${20} />
  </div>`;
}

// What a third-party backend needs from an admin: API keys and webhook endpoints.
import { html } from 'htm/preact';
import type { AdminBackend } from '../backend.js';
import { ApiKeys } from './ApiKeys.js';
import { Webhooks } from './Webhooks.js';

export function Developers({ backend }: { backend: AdminBackend }) {
  return html`<main class="dashboard" data-testid="developers">
    <${ApiKeys} backend=${backend} />
    <${Webhooks} backend=${backend} />
  </main>`;
}

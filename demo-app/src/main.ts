// The patient/doctor app's entry: one Backend (the SDK's TelemedClient behind the app's port)
// for the page's lifetime.
import { html } from 'htm/preact';
import { render } from 'preact';
import { App } from './App.js';
import { TelemedBackend } from './backend/telemed-backend.js';

const backend = new TelemedBackend({ baseUrl: location.origin });
(window as typeof window & { telemedApp: { backend: TelemedBackend } }).telemedApp = { backend };
const root = document.getElementById('app');
if (!root) throw new Error('#app missing');
render(html`<${App} backend=${backend} />`, root);

// The admin dashboard's entry.
import { html } from 'htm/preact';
import { render } from 'preact';
import { AdminApp } from './AdminApp.js';
import { TelemedAdminBackend } from './telemed-admin-backend.js';

const backend = new TelemedAdminBackend({ baseUrl: location.origin });
const root = document.getElementById('admin');
if (!root) throw new Error('#admin missing');
render(html`<${AdminApp} backend=${backend} />`, root);

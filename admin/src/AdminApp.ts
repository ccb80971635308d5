// The dashboard shell: admin sign-in, header, routes (#/ dashboard, #/calls/:id detail).
import type { User } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { AdminBackend } from './backend.js';
import { CallDetail } from './views/CallDetail.js';
import { Dashboard } from './views/Dashboard.js';
import { SignIn } from './views/SignIn.js';

function useHashPath(): string {
  const [path, setPath] = useState(() => location.hash.replace(/^#/, '') || '/');
  useEffect(() => {
    const onChange = (): void => setPath(location.hash.replace(/^#/, '') || '/');
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

export function AdminApp({ backend }: { backend: AdminBackend }) {
  const [user, setUser] = useState<User | undefined>();
  const [restoring, setRestoring] = useState(true);
  const path = useHashPath();
  useEffect(() => {
    backend.resume().then(setUser, () => undefined).finally(() => setRestoring(false));
  }, [backend]);

  if (restoring) return html`<main class="center" aria-busy="true"><p>Loading…</p></main>`;
  if (!user) return html`<${SignIn} backend=${backend} onSignedIn=${setUser} />`;
  const detail = /^\/calls\/([0-9a-f-]{36})$/.exec(path);
  return html`
    <header class="topbar">
      <a class="brand" href="#/">Telemed admin</a>
      <span class="who" data-testid="current-user">${user.displayName}</span>
      <button type="button" class="ghost" onClick=${() => void backend.logout().finally(() => setUser(undefined))}>Sign out</button>
    </header>
    ${detail ? html`<${CallDetail} key=${detail[1]} backend=${backend} callId=${detail[1]} />` : html`<${Dashboard} backend=${backend} />`}`;
}

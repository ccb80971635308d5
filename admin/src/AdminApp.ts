// The dashboard shell: admin sign-in, header, routes (#/ dashboard, #/calls/:id detail, #/accounts,
// #/care, #/developers (API keys and webhooks), #/audit?entityId=&actorId=).
import type { User } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { AdminBackend } from './backend.js';
import { Accounts } from './views/Accounts.js';
import { AuditLog, auditFilterFrom } from './views/AuditLog.js';
import { CallDetail } from './views/CallDetail.js';
import { CareTeams } from './views/CareTeams.js';
import { Dashboard } from './views/Dashboard.js';
import { Developers } from './views/Developers.js';
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
    backend
      .resume()
      .then(setUser, () => undefined)
      .finally(() => setRestoring(false));
  }, [backend]);

  if (restoring) return html`<main class="center" aria-busy="true"><p>Loading…</p></main>`;
  if (!user) return html`<${SignIn} backend=${backend} onSignedIn=${setUser} />`;
  const [route = '/', query = ''] = path.split('?');
  const detail = /^\/calls\/([0-9a-f-]{36})$/.exec(route);
  let page;
  if (detail) page = html`<${CallDetail} key=${detail[1]} backend=${backend} callId=${detail[1]} />`;
  else if (route === '/accounts') page = html`<${Accounts} backend=${backend} />`;
  else if (route === '/care') page = html`<${CareTeams} backend=${backend} />`;
  else if (route === '/developers') page = html`<${Developers} backend=${backend} />`;
  else if (route === '/audit') page = html`<${AuditLog} key=${query} backend=${backend} initial=${auditFilterFrom(new URLSearchParams(query))} />`;
  else page = html`<${Dashboard} backend=${backend} />`;
  const link = (href: string, label: string, current: boolean) => html`<a href=${href} aria-current=${current ? 'page' : undefined}>${label}</a>`;
  return html`
    <header class="topbar">
      <a class="brand" href="#/">Telemed admin</a>
      <nav class="nav" aria-label="Sections">
        ${link('#/', 'Calls', route === '/' || !!detail)}
        ${link('#/accounts', 'Accounts', route === '/accounts')}
        ${link('#/care', 'Care teams', route === '/care')}
        ${link('#/developers', 'Developers', route === '/developers')}
        ${link('#/audit', 'Audit log', route === '/audit')}
      </nav>
      <span class="who" data-testid="current-user">${user.displayName}</span>
      <button type="button" class="ghost" onClick=${() => void backend.logout().finally(() => setUser(undefined))}>Sign out</button>
    </header>
    ${page}`;
}

// The shell: sign-in gate, header, routes, and the incoming-call modal that can open on any page.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Backend, User } from './backend/types.js';
import { CallScreen } from './call-ui/CallScreen.js';
import { SessionContext, type Session } from './context.js';
import { match, navigate, useRoute } from './router.js';
import { ConversationView } from './views/ConversationView.js';
import { HomeView } from './views/HomeView.js';
import { IncomingCallModal } from './views/IncomingCallModal.js';
import { LoginView } from './views/LoginView.js';
import { SetPasswordView } from './views/SetPasswordView.js';

export function App({ backend }: { backend: Backend }) {
  const [user, setUser] = useState<User | undefined>(undefined);
  const [restoring, setRestoring] = useState(true);
  const route = useRoute();

  useEffect(() => {
    backend
      .resume()
      .then(setUser, () => undefined)
      .finally(() => setRestoring(false));
    const onSignedOut = (): void => setUser(undefined);
    backend.on('signedOut', onSignedOut);
    return () => backend.off('signedOut', onSignedOut);
  }, [backend]);

  if (restoring) return html`<main class="center" aria-busy="true"><p>Loading…</p></main>`;
  // A set-password link works whoever is signed in on this browser (the new password signs its person in).
  if (route.path === '/set-password') {
    return html`<${SetPasswordView} backend=${backend} token=${route.params.get('token') ?? ''} onSignedIn=${(u: User) => {
      setUser(u);
      navigate('/');
    }} />`;
  }
  if (!user)
    return html`<${LoginView} backend=${backend} onSignedIn=${(u: User) => {
      setUser(u);
      navigate('/');
    }} />`;

  const session: Session = { backend, user };
  const callMatch = match('/call/:id', route.path);
  const conversationMatch = match('/conversations/:id', route.path);
  let page;
  if (callMatch) page = html`<${CallScreen} key=${callMatch.id} callId=${callMatch.id} params=${route.params} />`;
  else if (conversationMatch) page = html`<${ConversationView} conversationId=${conversationMatch.id} />`;
  else page = html`<${HomeView} />`;

  const inCall = !!callMatch;
  return html`
    <${SessionContext.Provider} value=${session}>
      ${!inCall && html`<${Header} user=${user} onLogout=${() => void backend.logout().finally(() => setUser(undefined))} />`}
      ${page}
      <${IncomingCallModal} />
    <//>`;
}

function Header({ user, onLogout }: { user: User; onLogout: () => void }) {
  return html`
    <header class="topbar">
      <a class="brand" href="#/">Telemed</a>
      <span class="who" data-testid="current-user">${user.displayName} <span class="role">${user.role}</span></span>
      <button type="button" class="ghost" onClick=${onLogout}>Sign out</button>
    </header>`;
}

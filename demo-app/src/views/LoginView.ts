import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Backend, DemoAccount, User } from '../backend/types.js';
import { errorMessage } from '../format.js';

export function LoginView({ backend, onSignedIn }: { backend: Backend; onSignedIn: (user: User) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [accounts, setAccounts] = useState<DemoAccount[]>([]);

  useEffect(() => {
    backend.demoAccounts().then(setAccounts, () => setAccounts([]));
  }, [backend]);

  async function signIn(withEmail: string, withPassword: string): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await backend.login(withEmail, withPassword));
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return html`
    <main class="login">
      <h1 class="brand-large">Telemed</h1>
      <form class="card" aria-labelledby="login-title" onSubmit=${(e: Event) => {
        e.preventDefault();
        void signIn(email, password);
      }}>
        <h2 id="login-title">Sign in</h2>
        <label for="login-email">Email</label>
        <input id="login-email" name="email" type="email" autocomplete="username" required value=${email}
          onInput=${(e: Event) => setEmail((e.target as HTMLInputElement).value)} />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required value=${password}
          onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} />
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      ${
        accounts.length > 0 &&
        html`
        <section class="card demo-accounts" aria-labelledby="demo-title">
          <h2 id="demo-title">Demo accounts</h2>
          <p class="hint">Seeded for demo mode. Choose one to sign in.</p>
          <ul>
            ${accounts.map(
              (a) => html`
              <li key=${a.email}>
                <button type="button" class="account" data-email=${a.email} disabled=${busy}
                  aria-label=${`Sign in as ${a.name} (${a.role})`}
                  onClick=${() => {
                    setEmail(a.email);
                    setPassword(a.password);
                    void signIn(a.email, a.password);
                  }}>
                  <span class="name">${a.name}</span> <span class=${`role role-${a.role}`}>${a.role}</span>
                  <span class="email">${a.email}</span>
                </button>
              </li>`,
            )}
          </ul>
        </section>`
      }
    </main>`;
}

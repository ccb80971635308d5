import type { User } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { AdminBackend } from '../backend.js';

export function SignIn({ backend, onSignedIn }: { backend: AdminBackend; onSignedIn: (user: User) => void }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      const user = await backend.login(String(form.get('email')), String(form.get('password')));
      if (user.role !== 'admin') {
        await backend.logout();
        throw new Error('This dashboard is for admins only.');
      }
      onSignedIn(user);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return html`
    <main class="signin">
      <form class="card" aria-labelledby="signin-title" onSubmit=${(e: Event) => void submit(e)}>
        <h1 id="signin-title">Telemed admin</h1>
        <label for="admin-email">Email</label>
        <input id="admin-email" name="email" type="email" autocomplete="username" required />
        <label for="admin-password">Password</label>
        <input id="admin-password" name="password" type="password" autocomplete="current-password" required />
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>`;
}

// The page an invitation or password-reset link opens (#/set-password?token=…): the person
// chooses a password, then is signed in (admins go on to the dashboard at /admin/).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { AccountLink, Backend, User } from '../backend/types.js';
import { errorMessage } from '../format.js';

const MIN_LENGTH = 12;

export function SetPasswordView({ backend, token, onSignedIn }: { backend: Backend; token: string; onSignedIn: (user: User) => void }) {
  const [link, setLink] = useState<AccountLink | undefined>();
  const [linkError, setLinkError] = useState<string | undefined>();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  useEffect(() => {
    backend.accountLink(token).then(setLink, (e: unknown) => setLinkError(errorMessage(e)));
  }, [backend, token]);

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (!link) return;
    if (password.length < MIN_LENGTH) return setError(`Choose at least ${MIN_LENGTH} characters.`);
    if (password !== repeat) return setError('The two passwords differ.');
    setBusy(true);
    setError(undefined);
    try {
      await backend.setPassword(token, password);
      setDone(true);
      const user = await backend.login(link.email, password);
      if (user.role === 'admin') {
        await backend.logout();
        location.assign('/admin/');
        return;
      }
      onSignedIn(user);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  const title = link?.purpose === 'reset' ? 'Choose a new password' : 'Welcome to Telemed';
  return html`
    <main class="login">
      <h1 class="brand-large">Telemed</h1>
      ${
        linkError
          ? html`<section class="card" aria-labelledby="link-title"><h2 id="link-title">This link does not work</h2><p class="error" role="alert">${linkError}</p><a href="#/">Go to sign in</a></section>`
          : !link
            ? html`<p aria-busy="true">Checking your link…</p>`
            : html`
        <form class="card" aria-labelledby="set-password-title" onSubmit=${(e: Event) => void submit(e)} data-testid="set-password">
          <h2 id="set-password-title">${title}</h2>
          <p class="hint">${link.displayName} (${link.email}): choose a password of at least ${MIN_LENGTH} characters.</p>
          <label for="new-password">New password</label>
          <input id="new-password" name="password" type="password" autocomplete="new-password" minlength=${MIN_LENGTH} required value=${password}
            onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} />
          <label for="repeat-password">Repeat it</label>
          <input id="repeat-password" name="repeat" type="password" autocomplete="new-password" minlength=${MIN_LENGTH} required value=${repeat}
            onInput=${(e: Event) => setRepeat((e.target as HTMLInputElement).value)} />
          ${error && html`<p class="error" role="alert">${error}</p>`}
          <button type="submit" class="primary" disabled=${busy}>${done ? 'Signing in…' : busy ? 'Saving…' : 'Set password'}</button>
        </form>`
      }
    </main>`;
}

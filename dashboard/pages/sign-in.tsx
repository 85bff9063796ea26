// The sign-in page of a team server (user name and password, or a service-account token), and what a
// local server says instead: it has no accounts, so its dashboard opens through `skydeck dashboard`.
import { useState } from 'preact/hooks';
import type { MeResponse } from '../../protocol/dashboard';
import { api, errorText } from '../api';

export function SignIn(props: { team: boolean; onSignedIn(me: MeResponse): void; notice?: string }) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [error, setError] = useState(props.notice ?? '');
  const [busy, setBusy] = useState(false);
  if (!props.team) {
    return (
      <main class="sign-in">
        <h1>SkyDeck</h1>
        <p>This is a local SkyDeck server: it has no accounts, and only its owner may use it.</p>
        <p>
          Run <code>skydeck dashboard</code> in a terminal (or <strong>SkyDeck: Open Dashboard</strong> in VS Code) to open the dashboard signed in.
        </p>
        {props.notice && <p role="alert" class="error">{props.notice}</p>}
      </main>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const body = mode === 'password' ? { user: String(data.get('user') ?? ''), password: String(data.get('password') ?? '') } : { token: String(data.get('token') ?? '').trim() };
    setBusy(true);
    setError('');
    try {
      props.onSignedIn(await api<MeResponse>('POST', '/api/sessions', body));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Sign in to SkyDeck</h1>
      <div class="tabs" role="tablist" aria-label="How to sign in">
        <button type="button" role="tab" aria-selected={mode === 'password'} onClick={() => setMode('password')}>
          User and password
        </button>
        <button type="button" role="tab" aria-selected={mode === 'token'} onClick={() => setMode('token')}>
          Service-account token
        </button>
      </div>
      <form onSubmit={submit} class="form" aria-label="Sign in">
        {mode === 'password' ? (
          <>
            <label for="user">User name</label>
            <input id="user" name="user" autocomplete="username" required autoFocus />
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </>
        ) : (
          <>
            <label for="token">Token</label>
            <input id="token" name="token" type="password" autocomplete="off" required placeholder="skdk_..." autoFocus />
          </>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Sign in
          </button>
        </div>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

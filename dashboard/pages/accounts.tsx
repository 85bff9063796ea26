// Admins' pages: users (add, change role, reset password, remove) and service-account tokens (create,
// shown once; revoke). The admin API refuses everyone else, whatever the page shows.
import { useEffect, useState } from 'preact/hooks';
import { ACCOUNT_ROLES, type AccountChangeResponse, type AccountRole, type TokenCreatedResponse, type TokenListResponse, type UserListResponse } from '../../protocol/dashboard';
import { relativeTime } from '../../client/format';
import { api, errorText } from '../api';
import { Confirm, Grid } from '../components';

function useList<T>(path: string): [T | undefined, () => void, string] {
  const [value, setValue] = useState<T | undefined>();
  const [error, setError] = useState('');
  const load = () => void api<T>('GET', path).then(setValue, (err) => setError(errorText(err)));
  useEffect(load, [path]);
  return [value, load, error];
}

/** A secret the server shows only in this one answer. */
function ShownOnce(props: { label: string; secret: string }) {
  return (
    <div class="secret" role="status" aria-label={props.label}>
      <strong>{props.label}</strong> (shown only now; copy it):
      <br />
      <code id="shown-once">{props.secret}</code>
    </div>
  );
}

export function UsersPage() {
  const [list, reload, loadError] = useList<UserListResponse>('/api/admin/users');
  const [message, setMessage] = useState('');
  const [secret, setSecret] = useState<{ label: string; secret: string } | undefined>();
  const [removing, setRemoving] = useState<string | undefined>();
  const run = async (call: Promise<AccountChangeResponse>, who: string) => {
    setSecret(undefined);
    try {
      const answer = await call;
      setMessage(`${answer.message}${answer.sessionsEnded ? ` ${answer.sessionsEnded} dashboard session(s) ended.` : ''}`);
      if (answer.generatedPassword) setSecret({ label: `Password of ${who}`, secret: answer.generatedPassword });
      reload();
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name'));
    const password = String(data.get('password') ?? '');
    void run(api('POST', '/api/admin/users', { name, role: data.get('role'), ...(password ? { password } : {}) }), name).then(() => form.reset());
  };
  return (
    <section class="page" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      {(message || loadError) && (
        <p role="status" class="message" id="account-message">
          {message || loadError}
        </p>
      )}
      {secret && <ShownOnce {...secret} />}
      <Grid label="Users" columns={['Name', 'Role', 'Created']} hiddenColumn="Actions">
        {list?.users.map((u) => (
          <tr data-user={u.name}>
            <td>{u.name}</td>
            <td>
              <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => void run(api('POST', `/api/admin/users/${encodeURIComponent(u.name)}`, { role: e.currentTarget.value }), u.name)}>
                {ACCOUNT_ROLES.map((r) => (
                  <option value={r}>{r}</option>
                ))}
              </select>
            </td>
            <td>{relativeTime(u.createdAt)}</td>
            <td class="toolbar">
              <button type="button" class="small" onClick={() => void run(api('POST', `/api/admin/users/${encodeURIComponent(u.name)}`, { generatePassword: true }), u.name)}>
                Reset password
              </button>
              <button type="button" class="small danger" onClick={() => setRemoving(u.name)}>
                Remove
              </button>
            </td>
          </tr>
        ))}
      </Grid>
      <h2>Add a user</h2>
      <form class="filters" onSubmit={add} aria-label="Add a user">
        <NameAndRole />
        <label>
          Password (empty: generate one)
          <input name="password" type="password" minLength={8} autocomplete="new-password" />
        </label>
        <button type="submit" class="primary">
          Add user
        </button>
      </form>
      {removing && (
        <Confirm
          title={`Remove ${removing}?`}
          body={<p>They can no longer sign in; their dashboard sessions and open connections end at once. Their requests and clusters stay.</p>}
          action="Remove user"
          danger
          onConfirm={() => void run(api('DELETE', `/api/admin/users/${encodeURIComponent(removing)}`), removing)}
          onClose={() => setRemoving(undefined)}
        />
      )}
    </section>
  );
}

export function TokensPage() {
  const [list, reload, loadError] = useList<TokenListResponse>('/api/admin/tokens');
  const [message, setMessage] = useState('');
  const [secret, setSecret] = useState<string | undefined>();
  const [revoking, setRevoking] = useState<string | undefined>();
  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const days = Number(data.get('days') || 0);
    try {
      const answer = await api<TokenCreatedResponse>('POST', '/api/admin/tokens', { name: data.get('name'), role: data.get('role') as AccountRole, ...(days > 0 ? { expiresInDays: days } : {}) });
      setSecret(answer.secret);
      setMessage(`Created token ${answer.token.id} for ${answer.token.name}.`);
      form.reset();
      reload();
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  const revoke = async (id: string) => {
    setSecret(undefined);
    try {
      setMessage((await api<AccountChangeResponse>('DELETE', `/api/admin/tokens/${encodeURIComponent(id)}`)).message);
      reload();
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  return (
    <section class="page" aria-labelledby="tokens-title">
      <h1 id="tokens-title">Service-account tokens</h1>
      {(message || loadError) && (
        <p role="status" class="message" id="account-message">
          {message || loadError}
        </p>
      )}
      {secret && <ShownOnce label="New token" secret={secret} />}
      <Grid label="Tokens" columns={['Id', 'Name', 'Role', 'Created', 'Expires']} hiddenColumn="Actions">
        {list?.tokens.map((t) => (
          <tr data-token={t.name}>
            <td class="mono">{t.id}</td>
            <td>{t.name}</td>
            <td>{t.role}</td>
            <td>{relativeTime(t.createdAt)}</td>
            <td>{t.expiresAt ? `${new Date(t.expiresAt).toLocaleDateString()}${t.expiresAt < Date.now() ? ' (expired)' : ''}` : 'never'}</td>
            <td>
              <button type="button" class="small danger" onClick={() => setRevoking(t.id)} aria-label={`Revoke token ${t.name}`}>
                Revoke
              </button>
            </td>
          </tr>
        ))}
      </Grid>
      <h2>Create a token</h2>
      <form class="filters" onSubmit={(e) => void create(e)} aria-label="Create a token">
        <NameAndRole />
        <label>
          Expires after (days; empty: never)
          <input name="days" type="number" min={1} max={3650} />
        </label>
        <button type="submit" class="primary">
          Create token
        </button>
      </form>
      {revoking && (
        <Confirm
          title={`Revoke token ${revoking}?`}
          body={<p>Everything using it is refused from now on, and its dashboard sessions end.</p>}
          action="Revoke token"
          danger
          onConfirm={() => void revoke(revoking)}
          onClose={() => setRevoking(undefined)}
        />
      )}
    </section>
  );
}

/** The name and role fields a new user and a new token both have (the name rule is the server's LOGIN_NAME). */
function NameAndRole() {
  return (
    <>
      <label>
        Name
        <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}" autocomplete="off" />
      </label>
      <label>
        Role
        <select name="role">
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
      </label>
    </>
  );
}

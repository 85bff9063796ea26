// The dashboard: one page served by the API server (same origin, nonce CSP), signed in with a session
// cookie, speaking the same HTTP and WebSocket protocol as the CLI and the editor.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { MeResponse } from '../protocol/dashboard';
import { api, signedOut } from './api';
import { Link } from './components';
import { BASE, navigate, usePath } from './hooks';
import { openLive, type LiveState } from './live';
import { ClustersModel, RequestsModel } from './model';
import { pages, type PageProps } from './pages';
import { SignIn } from './pages/sign-in';
import './dashboard.css';

const team = document.body.dataset.server === 'team';

function App() {
  const [me, setMe] = useState<MeResponse | null | undefined>(undefined);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    api<MeResponse>('GET', '/api/me').then(setMe, () => setMe(null));
    const onSignedOut = () => {
      setNotice('Your session has ended: sign in again.');
      setMe(null);
    };
    signedOut.addEventListener('signed-out', onSignedOut);
    return () => signedOut.removeEventListener('signed-out', onSignedOut);
  }, []);
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null) return <SignIn team={team} notice={notice} onSignedIn={setMe} />;
  return <SignedIn me={me} onSignOut={() => setMe(null)} />;
}

function SignedIn(props: { me: MeResponse; onSignOut(): void }) {
  const { me } = props;
  const live = useMemo(() => openLive(), []);
  const requests = useMemo(() => new RequestsModel(live), [live]);
  const clusters = useMemo(() => new ClustersModel(live), [live]);
  const [state, setState] = useState<LiveState>(live.current);
  useEffect(() => {
    void requests.load().catch(() => undefined);
    const listening = live.onState(({ state: s }) => {
      setState(s);
      // A dropped connection may be a session that ended (signed out elsewhere, account changed): asking
      // who we are shows the sign-in page on a 401.
      if (s === 'reconnecting') void api('GET', '/api/me').catch(() => undefined);
    });
    setState(live.current);
    return () => {
      listening.dispose();
      live.close();
    };
  }, [live]);
  const path = usePath();
  const [section = 'requests', ...rest] = path.split('/').filter(Boolean);
  const visible = pages.filter((p) => !p.adminOnly || me.role === 'admin');
  const page = visible.find((p) => p.path === section);
  const signOut = async () => {
    await api('POST', '/api/sessions/sign-out').catch(() => undefined);
    live.close();
    props.onSignOut();
    navigate(BASE);
  };
  const pageProps: PageProps = { me, live, requests, clusters, rest };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">SkyDeck</span>
        <nav aria-label="Dashboard">
          {visible.map((p) => (
            <Link href={`${BASE}${p.path}`} aria-current={p.path === section ? 'page' : undefined}>
              {p.title}
            </Link>
          ))}
        </nav>
        <span class={`live live-${state}`} role="status" title="Live updates">
          {state === 'open' ? 'live' : state}
        </span>
        <span class="who" id="who">
          {me.user.name} <span class="role">{me.role}</span>
        </span>
        {me.session && (
          <button type="button" class="small" onClick={() => void signOut()}>
            Sign out
          </button>
        )}
      </header>
      <main id="main">{page ? page.render(pageProps) : <section class="page"><h1>Not found</h1><p>There is no page {section} here{pages.some((p) => p.path === section) ? ' for you: it is for admins' : ''}.</p></section>}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

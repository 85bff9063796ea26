// The dashboard's sections, in the order of the navigation bar; admin-only ones are neither listed nor
// routed for other users (and their API refuses them anyway).
import type { ComponentChildren } from 'preact';
import type { MeResponse } from '../../protocol/dashboard';
import type { LiveSession } from '../../client/live-session';
import type { ClustersModel, RequestsModel } from '../model';
import { TokensPage, UsersPage } from './accounts';
import { ClustersPage } from './clusters';
import { InfraPage } from './infra';
import { JobsPage } from './jobs';
import { RequestPage } from './request';
import { RequestsPage } from './requests';
import { ServerPage } from './server';

export interface PageProps {
  me: MeResponse;
  live: LiveSession;
  requests: RequestsModel;
  clusters: ClustersModel;
  /** Path segments after the section, such as the request id. */
  rest: string[];
}

export interface Page {
  path: string;
  title: string;
  adminOnly?: boolean;
  render(props: PageProps): ComponentChildren;
}

export const pages: Page[] = [
  {
    path: 'requests',
    title: 'Requests',
    render: (p) => (p.rest[0] ? <RequestPage id={p.rest[0]} me={p.me} live={p.live} requests={p.requests} /> : <RequestsPage me={p.me} requests={p.requests} />),
  },
  { path: 'clusters', title: 'Clusters', render: (p) => <ClustersPage me={p.me} clusters={p.clusters} requests={p.requests} /> },
  { path: 'jobs', title: 'Jobs', render: (p) => <JobsPage me={p.me} /> },
  { path: 'infra', title: 'Infra', render: (p) => <InfraPage clusters={p.clusters} /> },
  { path: 'server', title: 'Server', render: (p) => <ServerPage requests={p.requests} /> },
  { path: 'users', title: 'Users', adminOnly: true, render: () => <UsersPage /> },
  { path: 'tokens', title: 'Tokens', adminOnly: true, render: () => <TokensPage /> },
];

// The HTTP API: thin routes that validate (validated()), call the executor or a store, and shape the answer.
import Router from '@koa/router';
import * as z from 'zod';
import {
  API_VERSION,
  cancelBody,
  clusterName,
  isOperationName,
  planBody,
  requestGetQuery,
  requestListQuery,
  streamQuery,
  type CancelResponse,
  type ClusterListResponse,
  type HealthResponse,
  type InfraListResponse,
  type PlanResponse,
  type QueueResult,
  type RequestListResponse,
} from '../../protocol/api';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_HEADER } from '../../protocol/wire';
import { COMMIT, VERSION } from '../../protocol/build-info';
import type { Principal } from '../auth/identity';
import { infraInventory } from '../infra/inventory';
import { requireAdmin } from '../auth/policy';
import type { ManagedJobListResponse } from '../../protocol/jobs';
import { jobListQuery } from '../../protocol/jobs-schemas';
import { formatConsidered } from '../infra/optimizer';
import { fail } from '../errors';
import { requestsToCancel } from '../operations/cancel-requests';
import { planLaunch } from '../operations/plan';
import type { UploadResponse } from '../../protocol/upload';
import type { Core } from '../core';
import { readJsonBody } from './json-body';
import { streamLog } from './stream';
import { validated } from './validate';

const clusterParams = z.object({ name: clusterName });

export function apiRoutes(core: Core): Router {
  const router = new Router();
  const principal = (state: unknown) => (state as { principal: Principal }).principal;

  router.get('/api/health', (ctx) => {
    const body: HealthResponse = {
      status: 'healthy',
      version: VERSION,
      commit: COMMIT,
      apiVersion: API_VERSION,
      user: principal(ctx.state).user,
      auth: core.authenticator.mode,
      startedAt: core.startedAt,
    };
    ctx.body = body;
  });

  router.post('/api/v1/:operation', async (ctx) => {
    const name = ctx.params.operation!;
    if (!isOperationName(name)) throw fail.not_found(`unknown operation '${name.slice(0, 64)}'`);
    const body = await readJsonBody(ctx);
    const key = ctx.get(IDEMPOTENCY_KEY_HEADER) || undefined;
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw fail.bad_request(`the ${IDEMPOTENCY_KEY_HEADER} header must be 8 to 128 letters, digits, '-' or '_'`);
    const request = await core.executor.submit(name, body, principal(ctx.state), key);
    ctx.status = 202;
    ctx.set('X-Skydeck-Request-Id', request.id);
    ctx.body = { requestId: request.id };
  });

  router.post('/api/uploads', async (ctx) => {
    if (!ctx.is('application/gzip', 'application/octet-stream')) throw fail.unsupported_media_type('send the bundle as application/gzip');
    let uploadId: string;
    try {
      uploadId = await core.uploads.receive(ctx.req);
    } catch (err) {
      // The rest of a refused bundle is not worth reading: the connection ends with the answer.
      ctx.set('Connection', 'close');
      throw err;
    }
    core.uploadOwners.add(uploadId, principal(ctx.state).user.id);
    const body: UploadResponse = { uploadId };
    ctx.body = body;
  });

  router.get(
    '/api/requests',
    validated({ query: requestListQuery }, (ctx, { query: q }) => {
      const body: RequestListResponse = {
        requests: core.requests.list({ all: q.all, includeSystem: q.all || q.system, userId: q.user, status: q.status, cluster: q.cluster, limit: q.limit ?? (q.all ? 1000 : undefined) }),
      };
      ctx.body = body;
    }),
  );

  router.get(
    '/api/requests/:id',
    validated({ query: requestGetQuery }, async (ctx, { query }) => {
      const id = core.requests.resolveId(ctx.params.id!);
      if (query.wait) await core.waitUntilFinished(id, query.wait * 1000, ctx.res);
      ctx.body = core.requests.get(id);
    }),
  );

  router.get('/api/stream', validated({ query: streamQuery }, (ctx, { query }) => streamLog(ctx, core, query)));

  router.post(
    '/api/cancel',
    validated({ body: cancelBody, what: 'cancel request (give {"requestIds": [...]} or {"all": true})' }, async (ctx, { body }) => {
      const answer: CancelResponse = { cancelled: await core.executor.cancel(requestsToCancel(core.requests, body, principal(ctx.state))) };
      ctx.body = answer;
    }),
  );

  router.get('/api/clusters', (ctx) => {
    const body: ClusterListResponse = { clusters: core.clusters.list() };
    ctx.body = body;
  });

  router.get(
    '/api/clusters/:name/jobs',
    validated({ params: clusterParams }, (ctx, { params: { name } }) => {
      core.clusters.require(name);
      const body: QueueResult = { jobs: core.clusters.allJobs(name) };
      ctx.body = body;
    }),
  );

  // Managed jobs, for views that refresh often (no request is created): the caller's, or everyone's for an admin who asks.
  router.get(
    '/api/jobs',
    validated({ query: jobListQuery }, (ctx, { query }) => {
      const caller = principal(ctx.state);
      if (query.all_users) requireAdmin(caller, "list everyone's managed jobs");
      const body: ManagedJobListResponse = { jobs: core.jobs.store.all().filter((j) => query.all_users || j.owner.id === caller.user.id).reverse() };
      ctx.body = body;
    }),
  );

  router.get('/api/infra', async (ctx) => {
    const body: InfraListResponse = { infra: await infraInventory(core.backends, core.clusters.list()) };
    ctx.body = body;
  });

  router.post(
    '/api/plan',
    validated({ body: planBody, what: 'plan request' }, async (ctx, { body: { task, clusterName } }) => {
      const plan = await planLaunch(core.clusters, core.backends, task, clusterName);
      let body: PlanResponse;
      if ('reuse' in plan) {
        const existing = plan.reuse;
        body = { existingCluster: core.clusters.public(existing), considered: [], refusals: [], table: `Reusing cluster ${existing.name} (${existing.infra}, ${existing.numNodes} node(s)).` };
      } else {
        const choice = plan.place;
        body = {
          considered: choice.considered.map(({ cost: _cost, candidate: _candidate, ...p }) => ({ ...p, chosen: p.infra === choice.chosen.infra && p.numNodes === choice.chosen.numNodes })),
          refusals: choice.refusals,
          table: formatConsidered(choice),
        };
      }
      ctx.body = body;
    }),
  );

  router.get('/metrics', (ctx) => {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = core.metrics.render({ requests: core.requests.live(), queueDepth: core.executor.queueDepth, historySize: core.requests.historySize, workers: { limit: core.executor.longConcurrency, busy: core.executor.busyLongWorkers }, logFollowers: core.logFollowers });
  });

  return router;
}

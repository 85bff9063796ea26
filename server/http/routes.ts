// The HTTP API: thin routes that validate, call the executor or a store, and shape the answer.
import Router from '@koa/router';
import { API_VERSION, cancelBody, clusterName, isOperationName, planBody, type ClusterListResponse, type PlanResponse, type HealthResponse, type InfraListResponse, type QueueResult } from '../../protocol/api';
import { REQUEST_STATUSES, type RequestStatus } from '../../protocol/model';
import { COMMIT, VERSION } from '../../protocol/build-info';
import type { Principal } from '../auth/identity';
import { requireAdmin, requireOwner } from '../auth/policy';
import { publicCluster } from '../clusters/cluster-service';
import { askFromTask, choosePlacement, formatConsidered } from '../infra/optimizer';
import { fail, invalidBody } from '../errors';
import type { UploadResponse } from '../../protocol/upload';
import type { Core } from '../core';
import { readJsonBody } from './json-body';
import { streamLog } from './stream';

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
    const request = await core.executor.submit(name, body, principal(ctx.state));
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

  router.get('/api/requests', (ctx) => {
    const q = ctx.query;
    const status = q.status === undefined ? undefined : String(q.status).toUpperCase();
    if (status !== undefined && !REQUEST_STATUSES.includes(status as RequestStatus)) {
      throw fail.bad_request(`status must be one of ${REQUEST_STATUSES.join(', ')}`);
    }
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100_000)) throw fail.bad_request('limit must be an integer from 1 to 100000');
    const cluster = q.cluster === undefined ? undefined : String(q.cluster);
    if (cluster !== undefined && !clusterName.safeParse(cluster).success) throw fail.bad_request('cluster is not a valid cluster name');
    const user = q.user === undefined ? undefined : String(q.user);
    const all = q.all === '1' || q.all === 'true';
    const includeSystem = all || q.system === '1';
    ctx.body = { requests: core.requests.list({ all, includeSystem, userId: user, status: status as RequestStatus | undefined, cluster, limit: limit ?? (all ? 1000 : undefined) }) };
  });

  router.get('/api/requests/:id', async (ctx) => {
    const id = core.requests.resolveId(ctx.params.id!);
    const wait = ctx.query.wait === undefined ? 0 : Number(ctx.query.wait);
    if (!Number.isFinite(wait) || wait < 0 || wait > 600) throw fail.bad_request('wait must be a number of seconds from 0 to 600');
    if (wait > 0) await core.waitUntilFinished(id, wait * 1000, ctx.res);
    ctx.body = core.requests.get(id);
  });

  router.get('/api/stream', (ctx) => streamLog(ctx, core));

  router.post('/api/cancel', async (ctx) => {
    const parsed = cancelBody.safeParse(await readJsonBody(ctx));
    if (!parsed.success) throw fail.bad_request(`give {"requestIds": [...]} or {"all": true}: ${parsed.error.issues[0]?.message}`);
    const me = principal(ctx.state);
    const body = parsed.data;
    if ('all' in body && body.allUsers === true) requireAdmin(me, "cancel everyone's requests");
    const ids =
      'all' in body
        ? core.requests
            .live()
            .filter((r) => body.allUsers === true || r.user.id === me.user.id)
            .map((r) => r.id)
        : body.requestIds.map((p) => core.requests.resolveId(p));
    if (!('all' in body)) for (const id of ids) requireOwner(me, core.requests.get(id)!.user, 'cancel', `request ${id.slice(0, 8)}`);
    ctx.body = { cancelled: await core.executor.cancel(ids) };
  });

  router.get('/api/clusters', (ctx) => {
    const body: ClusterListResponse = { clusters: core.clusters.list() };
    ctx.body = body;
  });

  router.get('/api/clusters/:name/jobs', (ctx) => {
    const name = ctx.params.name!;
    if (!clusterName.safeParse(name).success) throw fail.bad_request('not a valid cluster name');
    core.clusters.require(name);
    const body: QueueResult = { jobs: core.clusters.allJobs(name) };
    ctx.body = body;
  });

  router.get('/api/infra', async (ctx) => {
    const body: InfraListResponse = { infra: (await Promise.all(core.backends.map((b) => b.check()))).flat() };
    ctx.body = body;
  });

  router.post('/api/plan', async (ctx) => {
    const parsed = planBody.safeParse(await readJsonBody(ctx));
    if (!parsed.success) throw invalidBody('plan request', parsed.error.issues);
    const existing = parsed.data.clusterName === undefined ? undefined : core.clusters.get(parsed.data.clusterName);
    if (existing && existing.status !== 'INIT') {
      const body: PlanResponse = { existingCluster: publicCluster(existing), considered: [], refusals: [], table: `Reusing cluster ${existing.name} (${existing.infra}, ${existing.numNodes} node(s)).` };
      ctx.body = body;
      return;
    }
    const choice = await choosePlacement(core.backends, askFromTask(parsed.data.task));
    const body: PlanResponse = {
      considered: choice.considered.map(({ cost: _cost, ...p }) => ({ ...p, chosen: p.infra === choice.chosen.infra && p.numNodes === choice.chosen.numNodes })),
      refusals: choice.refusals,
      table: formatConsidered(choice),
    };
    ctx.body = body;
  });

  router.get('/metrics', (ctx) => {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = core.metrics.render({ requests: core.requests.live(), queueDepth: core.executor.queueDepth, historySize: core.requests.historySize, workers: { limit: core.executor.longConcurrency, busy: core.executor.busyLongWorkers } });
  });

  return router;
}

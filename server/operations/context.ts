// What every operation receives, and the helpers every operation uses.
import type { OperationBody, OperationName, OperationResult } from '../../protocol/api';
import type { OperationRequest, User } from '../../protocol/model';
import type { Principal } from '../auth/identity';
import { fail } from '../errors';
import type { ClusterService } from '../clusters/cluster-service';
import type { InfraBackends } from '../infra/registry';
import type { ManagedJobController } from '../jobs/controller';
import type { LogWriter } from '../logs/log-writer';
import type { LiveRequest, RequestStore } from '../store/request-store';
import type { UploadOwners } from '../upload-owners';
import type { UploadStore } from '../uploads';

export interface Services {
  requests: RequestStore;
  clusters: ClusterService;
  backends: InfraBackends;
  /** Task files uploaded by remote clients, named upload://<id> in tasks. */
  uploads: UploadStore;
  /** Who sent each upload: a task names only its caller's own (admins: anyone's). */
  uploadOwners: UploadOwners;
  /** Managed jobs: their controller and store (server/jobs/). */
  jobs: ManagedJobController;
  /** Cancels every PENDING or RUNNING request matching `which` (other than the caller); returns their ids. */
  cancelRequests(which: (r: LiveRequest) => boolean): Promise<string[]>;
}

export interface OperationContext<N extends OperationName> {
  request: OperationRequest<N> & Pick<LiveRequest, 'logHeaderBytes' | 'jobLogCopy'>;
  /** The body as submitted (secrets included), where `request.body` has them redacted. */
  body: OperationBody<N>;
  user: User;
  /** Who submitted it, with their role, for checks that must hold when the request runs. */
  caller: Principal;
  /** The request's own log: everything written here streams to whoever follows the request. */
  log: LogWriter;
  /** Aborted when the request is cancelled; operations stop their work and throw. */
  signal: AbortSignal;
  /** Says what the request is doing or why it waits (shown next to its status). */
  setStatusMessage(message: string | undefined): void;
  /** Records progress a restarted server needs to pick the request up again. */
  checkpoint(patch: Partial<LiveRequest>): Promise<void>;
  services: Services;
  /** True when a restarted server picks up a request that was RUNNING before (its job may still run). */
  resumed: boolean;
}

/** How an operation runs; whether it is long or short is part of the protocol (OPERATIONS). */
export interface Operation<N extends OperationName> {
  /** Checks that need the server's state, before the request is accepted (refused with its code). */
  preflight?(body: OperationBody<N>, services: Services, caller: Principal): void;
  run(ctx: OperationContext<N>): Promise<OperationResult<N>>;
}

/** Throws the abort reason if the request was cancelled. */
export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw fail.request_cancelled('the request was cancelled');
}

/**
 * Takes the cluster's lock for this request. While it waits, the request says who holds the lock;
 * once it has the lock, that message is cleared.
 */
export async function lockCluster(ctx: OperationContext<OperationName>, clusterName: string): Promise<() => void> {
  let waited = false;
  const release = await ctx.services.clusters.locks.acquire(clusterName, `${ctx.request.name} request ${ctx.request.id.slice(0, 8)}`, {
    signal: ctx.signal,
    onWait: (heldBy) => {
      waited = true;
      ctx.setStatusMessage(`waiting for cluster ${clusterName}: ${heldBy} is changing it`);
    },
  });
  if (waited) ctx.setStatusMessage(undefined);
  return release;
}

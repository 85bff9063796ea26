// Runs requests in the background. Long requests (launch, exec, start) share a bounded pool; short
// ones start at once and never wait behind long ones. Cancel never queues: a PENDING request leaves
// the queue on the spot, a RUNNING one is aborted and marked CANCELLED within CANCEL_DEADLINE_MS.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { OPERATIONS, parseOperationBody, type OperationBody, type OperationName } from '../protocol/api';
import { isRequestFinished, type ApiRequest, type OperationRequest } from '../protocol/model';
import { IDEMPOTENCY_WINDOW_MS } from '../protocol/wire';
import type { Principal } from './auth/identity';
import { TaskValidationError } from '../protocol/task';
import { fail, invalidBody, isSkyDeckError, type SkyDeckError } from './errors';
import { LogWriter } from './logs/log-writer';
import type { Metrics } from './metrics';
import type { Services } from './operations/context';
import { operationFor } from './operations';
import type { LiveRequest, RequestStore } from './store/request-store';

const CANCEL_DEADLINE_MS = 400;

/** Launches mostly wait on jobs, not CPU: a few per core, bounded by memory (about 256 MB each). */
export function defaultLongConcurrency(): number {
  return Math.max(2, Math.min(os.availableParallelism() * 4, Math.floor(os.totalmem() / 2 ** 28)));
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

export class Executor {
  private readonly queue: LiveRequest[] = [];
  /** Bodies as submitted, secrets included, for requests not yet run; the store keeps them redacted. */
  private readonly secretBodies = new Map<string, OperationBody<OperationName>>();
  /** Who submitted requests not yet run, with their role: ownership is checked again when they run. */
  private readonly callers = new Map<string, Principal>();
  private readonly running = new Map<string, Running>();
  private runningLong = 0;

  constructor(
    private readonly requests: RequestStore,
    private readonly services: Services,
    private readonly metrics: Metrics,
    readonly longConcurrency: number,
  ) {}

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Long requests holding a worker now (at most longConcurrency). */
  get busyLongWorkers(): number {
    return this.runningLong;
  }

  /** Submits by idempotency key (scoped to the user and operation) in the last IDEMPOTENCY_WINDOW_MS, oldest first. */
  private readonly byKey = new Map<string, { requestId: string; at: number }>();

  private remember(scopedKey: string, requestId: string, at: number): void {
    this.byKey.set(scopedKey, { requestId, at });
    for (const [k, v] of this.byKey) {
      if (Date.now() - v.at < IDEMPOTENCY_WINDOW_MS) break;
      this.byKey.delete(k);
    }
  }

  /** After a restart: keys of the requests still live, so a client retrying a submit the restart cut off gets its request. */
  rememberKeys(requests: readonly LiveRequest[]): void {
    for (const r of [...requests].sort((a, b) => a.createdAt - b.createdAt)) if (r.idempotencyKey) this.remember(`${r.user.id}/${r.name}/${r.idempotencyKey}`, r.id, r.createdAt);
  }

  /**
   * Validates and records a request, then starts or queues it. Resolves once it is stored. A submit
   * repeating an idempotency key (a client retrying after the connection dropped) gets the request
   * the first one created instead of running the work twice.
   */
  async submit<N extends OperationName>(name: N, rawBody: unknown, caller: Principal, idempotencyKey?: string): Promise<ApiRequest> {
    const user = caller.user;
    const scopedKey = idempotencyKey && `${user.id}/${name}/${idempotencyKey}`;
    const seen = scopedKey ? this.byKey.get(scopedKey) : undefined;
    const first = seen && Date.now() - seen.at < IDEMPOTENCY_WINDOW_MS ? this.requests.get(seen.requestId) : undefined;
    if (first) return first;
    const operation = operationFor(name);
    const parsed = parseOperationBody(name, rawBody ?? {});
    if (!parsed.success) throw invalidBody(`${name} request`, parsed.error.issues);
    try {
      operation.preflight?.(parsed.data, this.services, caller);
    } catch (err) {
      // Issue paths in details are relative to the body, like schema errors: `task.resources.infra`.
      throw err instanceof TaskValidationError ? taskInvalid(err) : err;
    }
    const body = parsed.data;
    const request: OperationRequest<N> = {
      id: randomUUID(),
      name,
      status: 'PENDING',
      user,
      clusterName: 'clusterName' in body ? body.clusterName : undefined,
      schedule: OPERATIONS[name].schedule,
      body: redactSecrets(body),
      createdAt: Date.now(),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
    // A request of operation N is one member of the ApiRequest union; TypeScript cannot pick the member for a generic N.
    this.requests.create(request as LiveRequest);
    if (scopedKey) this.remember(scopedKey, request.id, request.createdAt);
    if (request.body !== body) this.secretBodies.set(request.id, body);
    this.callers.set(request.id, caller);
    this.metrics.requestCreated(name);
    this.enqueue(request as LiveRequest);
    return request as ApiRequest;
  }

  /** Puts a stored PENDING request on its way (also used for requests found PENDING after a restart). */
  enqueue(request: LiveRequest): void {
    if (request.schedule === 'short') {
      this.start(request);
      return;
    }
    this.queue.push(request);
    this.drain();
  }

  private drain(): void {
    while (this.runningLong < this.longConcurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.runningLong++;
      this.start(next, () => {
        this.runningLong--;
        this.drain();
      });
    }
    this.queue.forEach((r, i) => {
      const message = `waiting for a worker: ${this.runningLong} long requests running (limit ${this.longConcurrency}), ${i} ahead in the queue`;
      if (r.statusMessage !== message) {
        r.statusMessage = message;
        void this.requests.update(r.id, { statusMessage: message }).catch(() => undefined);
      }
    });
  }

  private start(request: LiveRequest, onDone?: () => void, resumed = false): void {
    const controller = new AbortController();
    const done = this.execute(request, controller, resumed).finally(() => {
      this.running.delete(request.id);
      onDone?.();
    });
    this.running.set(request.id, { controller, done });
  }

  /** Runs a request that a restarted server found RUNNING and can pick up again (its job still runs). */
  resume(request: LiveRequest): void {
    if (request.schedule === 'long') this.runningLong++;
    this.start(request, request.schedule === 'long' ? () => (this.runningLong--, this.drain()) : undefined, true);
  }

  private async execute(request: LiveRequest, controller: AbortController, resumed: boolean): Promise<void> {
    if (request.name === 'status-refresh-daemon') return; // the server's own request runs itself, never here
    const operation = operationFor(request.name);
    const startedAt = request.startedAt ?? Date.now();
    let current: LiveRequest;
    try {
      current = await this.requests.update(request.id, { status: 'RUNNING', startedAt, statusMessage: undefined });
    } catch {
      return; // cancelled in the instant between dequeue and start
    }
    if (current.name === 'status-refresh-daemon') return;
    const log = new LogWriter(this.requests.logPath(request.id));
    let outcome: Partial<ApiRequest>;
    try {
      const body = this.secretBodies.get(request.id) ?? request.body;
      this.secretBodies.delete(request.id);
      // A request queued before a restart has lost its caller's role: it counts as a plain user's.
      const caller = this.callers.get(request.id) ?? { user: request.user, role: 'user' };
      this.callers.delete(request.id);
      const result = await operation.run({
        request: current,
        body,
        user: request.user,
        caller,
        log,
        signal: controller.signal,
        services: this.services,
        setStatusMessage: (statusMessage) => void this.requests.update(request.id, { statusMessage }).catch(() => undefined),
        checkpoint: async (patch) => {
          await this.requests.update(request.id, patch).catch(() => undefined);
        },
        resumed,
      });
      outcome = { status: 'SUCCEEDED', result };
    } catch (err) {
      if (controller.signal.aborted) {
        log.line('Request cancelled.');
        outcome = { status: 'CANCELLED' };
      } else {
        const failure = describeFailure(err);
        log.line(`Error: ${failure.error?.message}`);
        outcome = { status: 'FAILED', ...failure };
      }
    }
    // The log is complete on disk before the status says finished, so a follower that sees the
    // final status has already been able to read every line.
    await log.close();
    await this.finish(request.id, { ...outcome, finishedAt: Date.now() });
  }

  private async finish(id: string, patch: Partial<ApiRequest>): Promise<void> {
    const live = this.requests.get(id);
    if (!live || isRequestFinished(live.status)) return;
    const done = await this.requests.update(id, patch);
    this.metrics.requestFinished(done);
  }

  /** Cancels the given live requests; returns the ids it cancelled (finished ones are skipped). */
  async cancel(ids: readonly string[]): Promise<string[]> {
    const cancelled: string[] = [];
    await Promise.all(
      ids.map(async (id) => {
        const request = this.requests.get(id);
        if (!request || isRequestFinished(request.status)) return;
        const queued = this.queue.findIndex((r) => r.id === id);
        if (queued >= 0) {
          this.queue.splice(queued, 1);
          this.secretBodies.delete(id);
          this.callers.delete(id);
          await this.finish(id, { status: 'CANCELLED' });
          cancelled.push(id);
          this.drain();
          return;
        }
        const running = this.running.get(id);
        if (running) {
          running.controller.abort();
          // The operation stops its work (and its job) on abort; should it take longer than the
          // deadline, the request is marked now and the operation's own ending is ignored.
          await Promise.race([running.done, new Promise((r) => setTimeout(r, CANCEL_DEADLINE_MS))]);
        }
        await this.finish(id, { status: 'CANCELLED' });
        cancelled.push(id);
      }),
    );
    return cancelled;
  }

  /** Waits (bounded) for running short requests to finish; used at shutdown, when long ones are left to resume. */
  async waitForShort(timeoutMs: number): Promise<void> {
    const short = [...this.running.entries()].filter(([id]) => this.requests.get(id)?.schedule === 'short').map(([, r]) => r.done);
    await Promise.race([Promise.all(short), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
}

/** The body as stored and shown to everyone: secret values replaced. */
function redactSecrets<B extends OperationBody<OperationName>>(body: B): B {
  // A managed job's pipeline carries a task per stage, each with its own secrets.
  if ('tasks' in body && body.tasks.some((t) => t.secrets && Object.keys(t.secrets).length > 0)) return { ...body, tasks: body.tasks.map(redactTask) };
  if (!('task' in body) || !body.task.secrets || Object.keys(body.task.secrets).length === 0) return body;
  return { ...body, task: redactTask(body.task) };
}

function redactTask<T extends { secrets?: Record<string, unknown> | null }>(task: T): T {
  if (!task.secrets || Object.keys(task.secrets).length === 0) return task;
  return { ...task, secrets: Object.fromEntries(Object.keys(task.secrets).map((k) => [k, '<redacted>'])) };
}

/** A failed request's error: its code from the catalogue, and the result a failed job still has. */
function describeFailure(err: unknown): Pick<ApiRequest, 'error' | 'result'> {
  const known = err instanceof TaskValidationError ? taskInvalid(err) : isSkyDeckError(err) ? err : undefined;
  if (known) return { error: { type: known.code, message: known.message }, ...(known.result !== undefined ? { result: known.result } : {}) };
  return { error: { type: 'internal', message: err instanceof Error ? err.message : String(err) } };
}

/** Issues the shared task code (protocol/task.ts) finds, as `task_invalid` with paths from the body. */
function taskInvalid(err: TaskValidationError): SkyDeckError {
  return fail.task_invalid(err.message, err.issues.map((i) => ({ ...i, path: i.path ? `task.${i.path}` : 'task' })));
}


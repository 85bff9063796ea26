// Runs requests in the background. Long requests (launch, exec, start) share a bounded pool; short
// ones start at once and never wait behind long ones. Cancel never queues: a PENDING request leaves
// the queue on the spot, a RUNNING one is aborted and marked CANCELLED within CANCEL_DEADLINE_MS.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { OPERATIONS, parseOperationResult, parseSubmission, type OperationBody, type OperationName, type OperationSubmission } from '../protocol/api';
import { isRequestFinished, type ApiRequest } from '../protocol/model';
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
  async submit(name: OperationName, rawBody: unknown, caller: Principal, idempotencyKey?: string): Promise<ApiRequest> {
    const user = caller.user;
    const scopedKey = idempotencyKey && `${user.id}/${name}/${idempotencyKey}`;
    const seen = scopedKey ? this.byKey.get(scopedKey) : undefined;
    const first = seen && Date.now() - seen.at < IDEMPOTENCY_WINDOW_MS ? this.requests.get(seen.requestId) : undefined;
    if (first) return first;
    const parsed = parseSubmission(name, rawBody ?? {});
    if (!parsed.success) throw invalidBody(`${name} request`, parsed.issues);
    const submission = parsed.data;
    try {
      operationFor(submission.name).preflight?.(submission.body, this.services, caller);
    } catch (err) {
      // Issue paths in details are relative to the body, like schema errors: `task.resources.infra`.
      throw err instanceof TaskValidationError ? taskInvalid(err) : err;
    }
    const stored = redactSecrets(submission);
    const request: LiveRequest = {
      id: randomUUID(),
      status: 'PENDING',
      user,
      clusterName: 'clusterName' in submission.body ? submission.body.clusterName : undefined,
      schedule: OPERATIONS[name].schedule,
      createdAt: Date.now(),
      ...(idempotencyKey ? { idempotencyKey } : {}),
      ...stored,
    };
    this.requests.create(request);
    if (scopedKey) this.remember(scopedKey, request.id, request.createdAt);
    if (stored.body !== submission.body) this.secretBodies.set(request.id, submission.body);
    this.callers.set(request.id, caller);
    this.metrics.requestCreated(name);
    this.enqueue(request);
    return request;
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
      outcome = { status: 'SUCCEEDED', result: checkedResult(current.name, result) };
    } catch (err) {
      // A resumed request that was cancelled before the restart says so itself (its signal is a new one).
      if (controller.signal.aborted || (isSkyDeckError(err) && err.code === 'request_cancelled')) {
        log.line('Request cancelled.');
        outcome = { status: 'CANCELLED' };
      } else {
        const failure = describeFailure(current.name, err);
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

/** The submission as stored and shown to everyone: the tasks' secret values replaced. */
function redactSecrets(submission: OperationSubmission): OperationSubmission {
  // Each operation with tasks on its own line, so name and body stay paired for the compiler.
  if (submission.name === 'launch') return { name: submission.name, body: { ...submission.body, task: redactTask(submission.body.task) } };
  if (submission.name === 'exec') return { name: submission.name, body: { ...submission.body, task: redactTask(submission.body.task) } };
  // A managed job's pipeline carries a task per stage, each with its own secrets.
  if (submission.name === 'jobs.launch') return { name: submission.name, body: { ...submission.body, tasks: submission.body.tasks.map(redactTask) } };
  return submission;
}

function redactTask<T extends { secrets?: Record<string, unknown> | null }>(task: T): T {
  if (!task.secrets || Object.keys(task.secrets).length === 0) return task;
  return { ...task, secrets: Object.fromEntries(Object.keys(task.secrets).map((k) => [k, '<redacted>'])) };
}

/** A failed request's error: its code from the catalogue, and the result a failed job still has. */
function describeFailure(name: OperationName, err: unknown): Pick<ApiRequest, 'error' | 'result'> {
  const known = err instanceof TaskValidationError ? taskInvalid(err) : isSkyDeckError(err) ? err : undefined;
  if (!known) return { error: { type: 'internal', message: err instanceof Error ? err.message : String(err) } };
  const error = { type: known.code, message: known.message };
  if (known.result === undefined) return { error };
  const result = parseOperationResult(name, known.result);
  return result.success ? { error, result: result.data } : { error };
}

/**
 * The result as stored and returned: checked against its operation's schema (unknown keys dropped), so
 * what clients parse is what the protocol says. An operation returning something else is a server bug,
 * recorded as the request's internal error rather than stored.
 */
function checkedResult<N extends OperationName>(name: N, result: unknown): ApiRequest['result'] {
  const parsed = parseOperationResult(name, result);
  if (parsed.success) return parsed.data;
  throw fail.internal(`the ${name} operation returned a result that does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; ')}`);
}

/** Issues the shared task code (protocol/task.ts) finds, as `task_invalid` with paths from the body. */
function taskInvalid(err: TaskValidationError): SkyDeckError {
  return fail.task_invalid(err.message, err.issues.map((i) => ({ ...i, path: i.path ? `task.${i.path}` : 'task' })));
}


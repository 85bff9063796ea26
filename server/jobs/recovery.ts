// What a managed job does when the job on its cluster ends: the task's `job_recovery` read as SkyPilot
// reads it, and the rule that tells a failure of the infra (recovered, always) from a failure of the
// task's own code (final, unless max_restarts_on_errors or recover_on_exit_codes say otherwise).
import type { ManagedJobStatus, ManagedTask, RecoveryPolicy } from '../../protocol/jobs';
import { resourceCandidates, type Task } from '../../protocol/task';
import type { JobOutcome } from '../infra/backend';

const STRATEGIES = ['EAGER_NEXT_REGION', 'FAILOVER'] as const;

/** The task's recovery policy; SkyPilot's default is EAGER_NEXT_REGION with no restarts on errors. */
export function recoveryPolicy(task: Task): RecoveryPolicy {
  const { candidates } = resourceCandidates(task.resources);
  const raw = candidates.find((c) => c.job_recovery !== undefined)?.job_recovery;
  const spec = typeof raw === 'string' ? { strategy: raw } : (raw ?? {});
  const named = spec.strategy?.toUpperCase();
  const codes = 'recover_on_exit_codes' in spec ? spec.recover_on_exit_codes : undefined;
  return {
    strategy: STRATEGIES.find((s) => s === named) ?? 'EAGER_NEXT_REGION',
    maxRestartsOnErrors: 'max_restarts_on_errors' in spec ? (spec.max_restarts_on_errors ?? 0) : 0,
    recoverOnExitCodes: codes === undefined ? [] : [codes].flat(),
  };
}

/** A strategy name the task gives that SkyDeck does not know (so it is refused before anything starts). */
export function unknownStrategy(task: Task): string | undefined {
  const { candidates } = resourceCandidates(task.resources);
  for (const c of candidates) {
    const raw = c.job_recovery;
    const name = typeof raw === 'string' ? raw : raw?.strategy;
    if (name && !STRATEGIES.some((s) => s === name.toUpperCase())) return name;
  }
  return undefined;
}

/** How the job on the cluster ended, as far as recovery cares. */
export type Ending =
  | { kind: 'succeeded' }
  /** The task's code exited non-zero (in setup or run). */
  | { kind: 'code'; phase: 'setup' | 'run'; exitCode: number; reason: string }
  /** The infra ended it: a node lost, processes killed from outside, NODE_FAIL, preemption, the cluster taken down. */
  | { kind: 'infra'; reason: string };

export function ending(outcome: JobOutcome): Ending {
  if (outcome.status === 'SUCCEEDED') return { kind: 'succeeded' };
  if (outcome.status === 'FAILED' && outcome.exitCode !== undefined) {
    return { kind: 'code', phase: outcome.phase ?? 'run', exitCode: outcome.exitCode, reason: outcome.reason ?? `exit code ${outcome.exitCode}` };
  }
  // The controller cancels its own jobs only on the way out; a cancel it did not make came from outside.
  const reason = outcome.status === 'CANCELLED' ? 'the job on the cluster was cancelled from outside the managed job' : (outcome.reason ?? 'the job ended without an exit code');
  return { kind: 'infra', reason };
}

/** After the task's code failed: restart it (counting the restart, unless its exit code always recovers), or end with this status. */
export function afterCodeFailure(task: Pick<ManagedTask, 'recovery' | 'restartsOnErrors'>, end: Extract<Ending, { kind: 'code' }>): { restart: true; counted: boolean } | { restart: false; status: ManagedJobStatus } {
  if (task.recovery.recoverOnExitCodes.includes(end.exitCode)) return { restart: true, counted: false };
  if (task.restartsOnErrors < task.recovery.maxRestartsOnErrors) return { restart: true, counted: true };
  return { restart: false, status: end.phase === 'setup' ? 'FAILED_SETUP' : 'FAILED' };
}

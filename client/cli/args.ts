// Checks on command-line arguments, made before anything is sent.
import { CLUSTER_NAME, REQUEST_ID_PREFIX } from '../../protocol/wire';
import { CliExit, EXIT } from './output';

export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new CliExit(EXIT.usage, `Error: ${JSON.stringify(name)} is not a valid cluster name: lowercase letters, digits and -, starting with a letter (at most 63)`);
  }
}

export function checkRequestId(id: string): void {
  if (!REQUEST_ID_PREFIX.test(id)) throw new CliExit(EXIT.usage, `Error: ${JSON.stringify(id)} is not a request id or id prefix (hex digits and -)`);
}

export function jobNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliExit(EXIT.usage, `Error: ${JSON.stringify(text)} is not a job id (a positive whole number)`);
  return n;
}


/**
 * SkyPilot's `--wait-for`: SkyDeck's autostop counts a cluster idle when no job runs and no request is on
 * it, which is `jobs`. The other two would mislead: terminals do not keep a cluster busy (jobs_and_ssh),
 * and there is no hard time limit (none).
 */
export function checkWaitFor(value: string | undefined): void {
  if (value === undefined || value === 'jobs') return;
  const why = value === 'none' ? 'SkyDeck has no hard time limit: idle time counts from the last job' : 'open terminals do not keep a cluster busy here: only its jobs and requests do';
  throw new CliExit(EXIT.usage, `Error: --wait-for ${value}: ${why}; --wait-for jobs is what SkyDeck's autostop does`);
}

/** A SkyPilot flag SkyDeck has nothing for, where going on would mislead: a usage error saying why. */
export function refuseFlag(flag: string, why: string): never {
  throw new CliExit(EXIT.usage, `Error: ${flag}: ${why}`);
}

/** SkyPilot's --graceful waits for MOUNT_CACHED uploads before cancelling; SkyDeck has no such mounts. */
export const GRACEFUL_NOTE = '--graceful changes nothing here: SkyDeck has no cached uploads (MOUNT_CACHED) to wait for; the jobs are cancelled at once.';

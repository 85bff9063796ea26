// How a finished request ends a CLI command: its message and exit code (a launch exits with its job's code).
import type { LaunchResult } from '../../protocol/api';
import { isJobFinished, type ApiRequest } from '../../protocol/model';
import { shortId } from '../format';
import { resultOf } from '../results';
import { EXIT, note } from './output';

/** The job a launch or exec ran, once it has one. */
export function launchResult(request: ApiRequest): LaunchResult | undefined {
  return resultOf(request, 'launch') ?? resultOf(request, 'exec');
}

export interface FinishOptions {
  /**
   * The request's log was just printed to its end, whose last line says why a failed request failed
   * (`Error: ...`, written by the server). Where stdout and stderr are one terminal, that line is not
   * printed a second time; redirected, stderr still gets it.
   */
  logShown?: boolean;
}

/** Prints how the request ended (on stderr) and returns the exit code for it. */
export function finish(request: ApiRequest, options: FinishOptions = {}): number {
  const job = launchResult(request);
  if (request.status === 'CANCELLED') {
    note(`Request ${shortId(request.id)} (${request.name}) was cancelled.`);
    return EXIT.error;
  }
  if (request.status === 'FAILED') {
    const onScreen = options.logShown === true && process.stdout.isTTY === true && process.stderr.isTTY === true;
    if (!onScreen) note(`Error: ${request.error?.message ?? `request ${shortId(request.id)} failed`}`);
    return job?.exitCode ?? EXIT.error;
  }
  // The request log has already said how the job ended (or, with detachRun, how to follow it); the exit code
  // carries that on to scripts. A detached job that is still running counts as a success.
  if (!job || !isJobFinished(job.jobStatus)) return EXIT.ok;
  return job.exitCode ?? (job.jobStatus === 'SUCCEEDED' ? EXIT.ok : EXIT.error);
}


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


// Reading what a finished request returned: parsed by its operation's schema (protocol/results.ts), so a
// server that sends something else is an error naming the key, never a value typed by a cast.
import type { OperationName, OperationResult } from '../protocol/api';
import type { ApiRequest } from '../protocol/model';
import { ClientError } from './errors';
import { parseOperationResult } from './validation';

/** The request's result if it is a request of `name` and has one. */
export function resultOf<N extends OperationName>(request: ApiRequest, name: N): OperationResult<N> | undefined {
  if (request.name !== name || request.result === undefined) return undefined;
  const parsed = parseOperationResult(name, request.result);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; ');
  throw new ClientError('result_invalid', `the server's ${name} result for request ${request.id.slice(0, 8)} is not what this client understands (${where})`);
}

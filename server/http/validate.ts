// The one validation step of the HTTP routes: path parameters, the query string and the JSON body are
// parsed by their protocol schemas before the handler runs, which gets them typed. A refusal is a
// `bad_request` (or `task_invalid`) naming each field, like every schema error.
import type { RouterContext } from '@koa/router';
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import { invalidBody } from '../errors';
import { readJsonBody } from './json-body';

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

interface Schemas<P, Q, B> {
  params?: P;
  query?: Q;
  body?: B;
  /** Names the body in messages: "invalid plan request: task.run: ..." */
  what?: string;
  /** Largest body accepted, in bytes (default: the server's body limit). */
  bodyLimit?: number;
}

export function validated<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  schemas: Schemas<P, Q, B>,
  handler: (ctx: RouterContext, input: { params: Parsed<P>; query: Parsed<Q>; body: Parsed<B> }) => unknown,
): Middleware {
  return async (ctx) => {
    const routed = ctx as RouterContext;
    const params = schemas.params ? parse(schemas.params, routed.params, 'path') : undefined;
    const query = schemas.query ? parse(schemas.query, ctx.query, 'query string') : undefined;
    const body = schemas.body ? parse(schemas.body, (await readJsonBody(ctx, schemas.bodyLimit)) ?? {}, schemas.what ?? 'request body') : undefined;
    await handler(routed, { params: params as Parsed<P>, query: query as Parsed<Q>, body: body as Parsed<B> });
  };
}

function parse(schema: z.ZodType, value: unknown, what: string): unknown {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidBody(what, parsed.error.issues);
  return parsed.data;
}

/** The query string of a WebSocket upgrade (which no route's middleware sees), parsed like a route's. */
export function upgradeQuery<S extends z.ZodType>(schema: S, req: IncomingMessage): z.output<S> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return parse(schema, Object.fromEntries(url.searchParams), 'query string') as z.output<S>;
}

// Checks every HTTP request and WebSocket upgrade before any route runs, against what a browser can
// be tricked into sending. A web page may send requests to 127.0.0.1, and DNS rebinding can make its
// own host name resolve there: so the local server answers only to loopback Host names, and no server
// accepts a request that a browser marks as coming from another site.
import type { IncomingMessage } from 'node:http';
import { fail } from '../errors';

/** localhost (and *.localhost), 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHostHeader(host: string): boolean {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/i.exec(host.trim());
  if (!m) return false;
  const name = (m[1] ?? m[2] ?? '').toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === '::1' || name === '::ffff:127.0.0.1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) && name.split('.').every((o) => Number(o) <= 255);
}

/** `Origin` names the same host and port as `Host` (the scheme may differ behind a TLS proxy). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    const h = new URL(`http://${host}`);
    if (o.hostname.toLowerCase() !== h.hostname.toLowerCase()) return false;
    return h.port === '' || h.port === (o.port || (o.protocol === 'https:' ? '443' : '80'));
  } catch {
    return false; // includes Origin: null (sandboxed frames, file: pages)
  }
}

export interface GateOptions {
  /** Whether the server is in local mode right now (no accounts configured). */
  local: () => boolean;
}

export function browserGate(options: GateOptions): (req: IncomingMessage) => Promise<void> {
  return async (req) => {
    const host = req.headers.host ?? '';
    if (options.local() && !isLoopbackHostHeader(host)) {
      throw fail.host_not_allowed(`this local server answers only to loopback names such as 127.0.0.1 or localhost, not to Host '${host.slice(0, 100)}' (a guard against DNS rebinding)`);
    }
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      throw fail.cross_origin('requests from other web sites are refused');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, host)) {
      throw fail.cross_origin(`cross-origin requests are refused (Origin '${origin.slice(0, 100)}')`);
    }
  };
}

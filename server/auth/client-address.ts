// Which address a request comes from, for the login throttle, the connection caps and the messages
// naming it: the TCP peer,
// or, only when that peer is a proxy the operator named (--trusted-proxy), the client the proxy says
// it forwarded for. A header from anyone else is ignored, so a guesser cannot pick its own address.
import type { IncomingMessage } from 'node:http';
import { isIP, isIPv6 } from 'node:net';

export class ClientAddresses {
  private readonly trusted: Set<string>;

  constructor(trustedProxies: readonly string[] = []) {
    this.trusted = new Set(trustedProxies.map(plain));
  }

  /** Whether a TCP peer is a proxy the operator named: its connections carry other clients' requests. */
  isTrustedProxy(peer: string): boolean {
    return this.trusted.has(plain(peer));
  }

  /** The client as the login throttle and the connection caps count it (clientKey of `of`). */
  keyOf(req: IncomingMessage): string {
    return clientKey(this.of(req));
  }

  of(req: IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? 'unknown');
    if (!this.trusted.has(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => plain(h.trim())).filter(Boolean);
    // Each proxy appends the address it was reached from: the right-most hop no trusted proxy holds is
    // the client; everything left of it is what the client itself claimed.
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (isIP(hop) === 0) return peer; // garbled: the proxy's own address is all that is known
      if (!this.trusted.has(hop)) return hop;
    }
    return hops[0] ?? peer;
  }
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client; IPv6 compared in lower case. */
function plain(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
}

/** The part of a client address that one client controls: an IPv4 address, or an IPv6 /64. */
export function clientKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

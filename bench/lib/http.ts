// A minimal HTTP/1.1 client over one keep-alive socket, one call in flight at a time. It costs the
// benchmark far less than node:http or fetch per call, so the figures describe the server, not the client.
import net from 'node:net';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Identity {
  id: string;
  name: string;
}

export const BENCH_USER: Identity = { id: 'b0b0b0b0', name: 'bench' };

const HEADER_END = Buffer.from('\r\n\r\n');

export class KeepAliveConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void } | undefined;
  private closedError: Error | undefined;
  private readonly fixedHeaders: string;

  private constructor(
    private readonly socket: net.Socket,
    host: string,
    extraHeaders: Record<string, string>,
  ) {
    this.fixedHeaders = `Host: ${host}\r\n` + Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (err: Error) => {
      this.closedError ??= err;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  static open(baseUrl: string, headers: Record<string, string>): Promise<KeepAliveConnection> {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.off('error', reject);
        resolve(new KeepAliveConnection(socket, url.host, headers));
      });
      socket.once('error', reject);
    });
  }

  request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<HttpAnswer> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending) return Promise.reject(new Error('one call at a time per connection'));
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    let head = `${method} ${path} HTTP/1.1\r\n${this.fixedHeaders}`;
    if (body) head += `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
    head += '\r\n';
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body ? Buffer.concat([Buffer.from(head), body]) : head);
    });
  }

  /** JSON answer with an expected status; anything else throws with the body. */
  async json<T>(method: 'GET' | 'POST', path: string, expect: number, body?: unknown): Promise<T> {
    const answer = await this.request(method, path, body);
    if (answer.status !== expect) throw new Error(`${method} ${path} answered ${answer.status} (expected ${expect}): ${answer.body.slice(0, 300)}`);
    return JSON.parse(answer.body) as T;
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    if (!this.pending) return;
    const headerEnd = this.buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const lines = this.buffer.subarray(0, headerEnd).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + 4;
    let body: Buffer;
    let consumed: number;
    if (headers['transfer-encoding']?.includes('chunked')) {
      const parts: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(this.buffer.subarray(at, lineEnd).toString('latin1'), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          consumed = lineEnd + 4;
          break;
        }
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (this.buffer.length < bodyStart + length) return;
      body = this.buffer.subarray(bodyStart, bodyStart + length);
      consumed = bodyStart + length;
    }
    const answer = { status, headers, body: body.toString('utf8') };
    this.buffer = this.buffer.subarray(consumed);
    const p = this.pending;
    this.pending = undefined;
    p.resolve(answer);
  }
}

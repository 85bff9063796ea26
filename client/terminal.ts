// A shell on a cluster node through the API server (`/api/terminal`): bytes in, bytes out, a resize, and
// how it ended. Used by `skydeck ssh` and by the extension's terminals; neither emulates a terminal.
import WebSocket from 'ws';
import { SIGNAL_EXIT_BASE, TERMINAL_PATH, type TerminalClientMessage, type TerminalQuery, type TerminalServerMessage } from '../protocol/terminal';
import type { ApiClient } from './api-client';
import { Emitter, type Event } from './event';
import type { Disposable } from './lifecycle';

export interface TerminalOptions {
  cluster: string;
  node?: number;
  command?: string;
  /** A PTY of this size on the node; without it the command runs on plain pipes. */
  tty?: { cols: number; rows: number };
}

export interface TerminalEnd {
  /** The shell's exit code, 128 + n when signal n ended it, or undefined when it never ran or was cut off. */
  exitCode?: number;
  signal?: string;
  /** Why the session failed or was ended by the server (refused, cluster torn down, connection lost). */
  error?: { code: string; message: string };
}

/** Input waiting to be sent beyond which `write` asks the caller to wait for `onDrain`. */
const INPUT_HIGH_WATER = 256 * 1024;

export class TerminalSession implements Disposable {
  private readonly socket: WebSocket;
  private readonly data = new Emitter<Buffer>();
  private readonly ready = new Emitter<{ host: string; node: number }>();
  private readonly drain = new Emitter<void>();
  private readonly end = new Emitter<TerminalEnd>();
  private outcome: TerminalEnd = {};
  private blocked = false;
  private paused = false;
  private ended = false;
  /** What is written before the socket opens goes out, in order, once it has (the server holds it until the shell runs). */
  private early: (Buffer | TerminalClientMessage)[] | undefined = [];

  readonly onData: Event<Buffer> = this.data.event;
  readonly onReady: Event<{ host: string; node: number }> = this.ready.event;
  /** Input can be written again after `write` returned false. */
  readonly onDrain: Event<void> = this.drain.event;
  /** Fires once, when the session is over for whatever reason. */
  readonly onEnd: Event<TerminalEnd> = this.end.event;

  constructor(client: ApiClient, options: TerminalOptions) {
    const query: Record<string, string> = { cluster: options.cluster, node: String(options.node ?? 0), tty: options.tty ? '1' : '0' } satisfies Partial<Record<keyof TerminalQuery, string>>;
    if (options.command !== undefined) query.command = options.command;
    if (options.tty) Object.assign(query, { cols: String(options.tty.cols), rows: String(options.tty.rows) });
    const url = `${client.endpoint.url.replace(/^http/, 'ws')}${TERMINAL_PATH}?${new URLSearchParams(query)}`;
    this.socket = new WebSocket(url, { headers: { ...client.headers }, handshakeTimeout: 15_000 });
    this.socket.on('open', () => {
      if (this.paused) this.socket.pause();
      const early = this.early ?? [];
      this.early = undefined;
      for (const item of early) {
        if (Buffer.isBuffer(item)) this.write(item);
        else this.control(item);
      }
    });
    this.socket.on('message', (raw, isBinary) => {
      if (isBinary) return this.data.fire(Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer));
      let message: TerminalServerMessage;
      try {
        message = JSON.parse(String(raw)) as TerminalServerMessage;
      } catch {
        return;
      }
      if (message.type === 'ready') this.ready.fire({ host: message.host, node: message.node });
      else if (message.type === 'exit') this.outcome = { exitCode: message.code ?? (message.signal ? SIGNAL_EXIT_BASE + signalNumber(message.signal) : undefined), signal: message.signal, error: this.outcome.error };
      else this.outcome = { ...this.outcome, error: { code: message.code, message: message.message } };
    });
    // A refused upgrade answers with a status and a one-line reason: that is the error to show.
    this.socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => this.finish({ error: { code: String(res.statusCode), message: body.trim() || `the server refused the terminal (HTTP ${res.statusCode})` } }));
      res.on('error', () => this.finish({ error: { code: String(res.statusCode), message: `HTTP ${res.statusCode}` } }));
    });
    this.socket.on('error', (err) => this.finish({ error: { code: 'connection_failed', message: `cannot reach ${client.endpoint.url}: ${err.message}` } }));
    this.socket.on('close', () => this.finish(this.outcome.exitCode === undefined && !this.outcome.error ? { error: { code: 'connection_lost', message: 'the connection to the API server was lost' } } : this.outcome));
  }

  /** Sends terminal input; false means the connection is behind: wait for `onDrain` before writing more. */
  write(data: Buffer | string): boolean {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.early) {
      this.early.push(chunk);
      return true;
    }
    if (!this.isOpen()) return true;
    this.socket.send(chunk, { binary: true }, () => {
      if (this.blocked && this.socket.bufferedAmount < INPUT_HIGH_WATER / 2) {
        this.blocked = false;
        this.drain.fire();
      }
    });
    if (this.socket.bufferedAmount >= INPUT_HIGH_WATER) this.blocked = true;
    return !this.blocked;
  }

  resize(cols: number, rows: number): void {
    this.control({ type: 'resize', cols: Math.max(1, Math.floor(cols)), rows: Math.max(1, Math.floor(rows)) });
  }

  /** No more input: a command reading its stdin sees end of file. */
  endInput(): void {
    this.control({ type: 'eof' });
  }

  /** Stop / restart reading output (the caller's own output is behind); the server then pauses the shell. */
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket.resume();
  }

  /** Closes the session; the server hangs up the shell. */
  dispose(): void {
    if (this.socket.readyState === WebSocket.CONNECTING || this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
  }

  private control(message: TerminalClientMessage): void {
    if (this.early) this.early.push(message);
    else if (this.isOpen()) this.socket.send(JSON.stringify(message));
  }

  private isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  private finish(outcome: TerminalEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.end.fire(outcome);
    this.data.dispose();
    this.ready.dispose();
    this.drain.dispose();
    this.end.dispose();
  }
}

/** The code a terminal program exits with for this end, as ssh does: the shell's code, else 255. */
export function exitCodeOf(end: TerminalEnd): number {
  return end.exitCode ?? 255;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(name: string): number {
  return SIGNALS[name] ?? (Number.parseInt(name, 10) || 1);
}

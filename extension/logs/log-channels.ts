// Request logs in output channels: one channel per request (the few most recent kept), written in
// batches so many large logs do not flood the window, followed until the request ends.
import * as vscode from 'vscode';
import type { RequestSummary } from '../../protocol/model';
import { SETTINGS } from '../command-ids';
import { requestLabel, shortId, stripAnsi } from '../format';
import { Debouncer } from '../../client/debouncer';
import { Disposable } from '../disposable';
import type { Logger } from '../logger';
import type { ServerSession } from '../server-session';

/** Channels beyond this many are closed, oldest first (closing one stops its stream). */
const MAX_CHANNELS = 6;
const FLUSH_MS = 100;
/** Written per flush at most; a backlog larger than this is written over the following flushes. */
const FLUSH_CHARS = 256 * 1024;

class LogChannel implements vscode.Disposable {
  readonly channel: vscode.OutputChannel;
  private readonly batch = new Debouncer<string>(FLUSH_MS, (parts) => this.append(parts));
  stream: vscode.Disposable | undefined;
  following = false;

  constructor(
    readonly requestId: string,
    readonly name: string,
  ) {
    this.channel = vscode.window.createOutputChannel(name);
  }

  write(text: string): void {
    this.batch.add(text);
  }

  reset(): void {
    this.batch.flush();
    this.channel.clear();
  }

  flushNow(): void {
    while (this.batch.size > 0) this.batch.flush();
  }

  /** At most FLUSH_CHARS per batch: a backlog goes back in line for the next one. */
  private append(parts: string[]): void {
    const text = parts.join('');
    this.channel.append(stripAnsi(text.slice(0, FLUSH_CHARS)));
    if (text.length > FLUSH_CHARS) this.batch.add(text.slice(FLUSH_CHARS));
  }

  dispose(): void {
    this.batch.dispose();
    this.stream?.dispose();
    this.channel.dispose();
  }
}

export class LogChannels extends Disposable {
  private readonly channels = new Map<string, LogChannel>();

  constructor(
    private readonly session: ServerSession,
    private readonly logger: Logger,
  ) {
    super();
    this._register({ dispose: () => this.channels.forEach((c) => c.dispose()) });
  }

  /**
   * Shows a request's log in its own channel and follows it until the request ends. An open channel
   * that is still following is only revealed; a finished one is read again in full.
   */
  show(request: Pick<RequestSummary, 'id' | 'name' | 'clusterName'>, options: { preserveFocus?: boolean; fromStart?: boolean } = {}): void {
    const connection = this.session.connection;
    if (!connection) return;
    let entry = this.channels.get(request.id);
    if (entry?.following) {
      entry.channel.show(options.preserveFocus ?? true);
      return;
    }
    if (!entry) {
      entry = new LogChannel(request.id, `SkyDeck: ${requestLabel(request as RequestSummary)} (${shortId(request.id)})`);
      this.channels.set(request.id, entry);
      this.closeOldest();
    }
    const channel = entry;
    channel.reset();
    channel.channel.show(options.preserveFocus ?? true);
    const configured = vscode.workspace.getConfiguration('skydeck').get<number>(SETTINGS.logTail, 0);
    const tail = options.fromStart || !configured ? undefined : configured;
    channel.following = true;
    channel.stream?.dispose();
    channel.stream = connection.followLog(
      request.id,
      {
        onData: (text) => channel.write(text),
        onEnd: (status) => {
          channel.following = false;
          channel.write(`\n[SkyDeck] request ${shortId(request.id)} ended: ${status}\n`);
          channel.flushNow();
        },
        onError: (message) => {
          channel.following = false;
          channel.write(`\n[SkyDeck] cannot stream this log: ${message}\n`);
          this.logger.warn(`log stream of ${request.id}: ${message}`);
        },
      },
      { follow: true, tail },
    );
  }

  /** Whether the Output panel shows this request's channel now (it is then among the visible editors, scheme `output`). */
  isInView(requestId: string): boolean {
    const entry = this.channels.get(requestId);
    if (!entry) return false;
    return vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'output' && decodeURIComponent(e.document.uri.toString()).includes(entry.name));
  }

  private closeOldest(): void {
    while (this.channels.size > MAX_CHANNELS) {
      const [oldestId, oldest] = this.channels.entries().next().value as [string, LogChannel];
      this.channels.delete(oldestId);
      oldest.dispose();
    }
  }
}


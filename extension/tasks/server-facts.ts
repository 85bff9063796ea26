// What the connected server knows that a task file may name: its infra (on or off, and why), read from
// `GET /api/infra` when the connection comes up and again, at most every REFRESH_MS, while task files are
// being edited. Diagnostics and completion read it; a change re-checks the open task files.
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import type { Logger } from '../logger';
import type { ServerSession } from '../server-session';
import type { InfraStatus } from '../../protocol/infra';

const REFRESH_MS = 30_000;

export class TaskServerFacts extends Disposable {
  private answer: InfraStatus[] | undefined;
  private fetchedAt = 0;
  private fetching: Promise<void> | undefined;
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly session: ServerSession,
    private readonly logger: Logger,
  ) {
    super();
    let wasConnected = false;
    this._register(
      session.onDidChange(() => {
        const connected = session.state === 'connected';
        if (connected && !wasConnected) void this.refresh(true);
        if (!connected && this.answer) {
          // Another server (or none): what the last one said no longer applies.
          this.answer = undefined;
          this.changed.fire();
        }
        wasConnected = connected;
      }),
    );
  }

  /** The server's infra, as last read; undefined while not connected. */
  get infra(): InfraStatus[] | undefined {
    return this.answer;
  }

  /** Reads the infra again when the last answer is older than REFRESH_MS (or at once when forced). */
  refresh(force = false): Promise<void> {
    const client = this.session.state === 'connected' ? this.session.connection?.client : undefined;
    if (!client || (!force && Date.now() - this.fetchedAt < REFRESH_MS)) return Promise.resolve();
    this.fetching ??= client
      .infra()
      .then((infra) => {
        this.fetchedAt = Date.now();
        if (JSON.stringify(infra) === JSON.stringify(this.answer)) return;
        this.answer = infra;
        this.changed.fire();
      })
      .catch((err: Error) => this.logger.warn(`could not read the server's infra: ${err.message}`))
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }
}

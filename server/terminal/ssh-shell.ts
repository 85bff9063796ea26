// A shell on an SSH pool host: one channel on the backend's connection to that host, with the PTY
// allocated by the host's sshd. Variables ride in the command, since sshd accepts few through `env`.
import type { Client, ClientChannel } from 'ssh2';
import { exportLines, shellQuote } from '../infra/shell';
import type { NodeShell, ShellEvents, ShellRequest } from './node-shell';

/** `cd` to the node's workdir (a shell expression: it may start with `~`), set the variables, start bash. */
export function shellCommand(workdirExpr: string, request: Pick<ShellRequest, 'env' | 'command'>): string {
  const start = request.command === undefined ? 'exec bash -l' : `exec bash -lc ${shellQuote(request.command)}`;
  return `cd ${workdirExpr} 2>/dev/null || cd; ${exportLines(request.env).replace(/\n/g, '; ')}${Object.keys(request.env).length ? '; ' : ''}${start}`;
}

export function openSshShell(client: Client, host: string, command: string, tty: ShellRequest['tty'], events: ShellEvents): Promise<NodeShell> {
  return new Promise((resolve, reject) => {
    const options = tty ? { pty: { term: 'xterm-256color', cols: tty.cols, rows: tty.rows } } : {};
    client.exec(command, options, (err, channel: ClientChannel) => {
      if (err) return reject(new Error(`cannot open a shell on ${host}: ${err.message}`));
      let exit: { code: number | null; signal?: string } = { code: null };
      channel.on('data', (d: Buffer) => events.onData(d));
      channel.stderr.on('data', (d: Buffer) => events.onData(d));
      channel.on('drain', () => events.onDrain());
      channel.on('exit', (code: number | null, signal?: string) => {
        exit = signal ? { code: null, signal: `SIG${signal}` } : { code };
      });
      channel.on('close', () => events.onExit(exit));
      resolve({
        host,
        write: (data) => channel.write(data),
        endInput: () => channel.end(),
        resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
        pause: () => channel.pause(),
        resume: () => channel.resume(),
        // Closing the channel closes the PTY on the host, and sshd hangs up the shell's session.
        hangUp: () => {
          channel.signal('HUP');
          channel.close();
        },
      });
    });
  });
}

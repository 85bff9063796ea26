// `skydeck ssh CLUSTER [--node N] [-- COMMAND]`: a shell on a cluster node through the API server, in
// this terminal (raw mode, resizes follow the window), or one command whose output is printed and whose
// exit code becomes ours. Works the same against a team server where the user holds no SSH key.
import { TerminalSession, exitCodeOf, type TerminalEnd } from '../../terminal';
import { checkClusterName } from '../args';
import { connect } from '../context';
import { CliExit, note } from '../output';

export async function ssh(cluster: string, command: string[], options: { node?: number; tty?: boolean }): Promise<void> {
  checkClusterName(cluster);
  const { client } = await connect();
  const { stdin, stdout } = process;
  // As ssh does: a PTY for an interactive login from a terminal, plain pipes for a command (so its
  // output can go to a file unchanged), unless -t asks for one.
  const tty = options.tty ?? (command.length === 0 && stdin.isTTY === true && stdout.isTTY === true);
  const session = new TerminalSession(client, {
    cluster,
    node: options.node,
    command: command.length > 0 ? command.join(' ') : undefined,
    tty: tty ? { cols: stdout.columns || 80, rows: stdout.rows || 24 } : undefined,
  });

  const raw = tty && stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const onResize = () => session.resize(stdout.columns, stdout.rows);
  stdout.on('resize', onResize);
  const onInput = (chunk: Buffer) => {
    if (!session.write(chunk)) stdin.pause();
  };
  const onInputEnd = () => session.endInput();
  session.onDrain(() => stdin.resume());
  // Input read before the shell is ready is sent, in order, once it is.
  stdin.on('data', onInput);
  stdin.on('end', onInputEnd);
  session.onData((chunk) => {
    if (!stdout.write(chunk)) {
      session.pause();
      stdout.once('drain', () => session.resume());
    }
  });

  const end = await new Promise<TerminalEnd>((resolve) => session.onEnd(resolve));
  stdout.off('resize', onResize);
  stdin.off('data', onInput);
  stdin.off('end', onInputEnd);
  if (raw) stdin.setRawMode(false);
  stdin.pause();
  stdin.unref?.();
  const code = exitCodeOf(end);
  if (end.error && end.exitCode === undefined) throw new CliExit(code, `${raw ? '\r\n' : ''}Error: ${end.error.message}`);
  if (end.error) note(`${raw ? '\r\n' : ''}${end.error.message}`);
  process.exitCode = code;
}

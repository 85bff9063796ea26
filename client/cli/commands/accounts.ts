// `skydeck users ...` and `skydeck tokens ...`: a team server's accounts live in files in its data dir,
// which the server program itself manages; the CLI hands the command to the bundled server.js.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';

export async function manage(group: 'users' | 'tokens', args: string[]): Promise<void> {
  const child = spawn(process.execPath, [join(__dirname, 'server.js'), group, ...args], { stdio: 'inherit' });
  process.exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

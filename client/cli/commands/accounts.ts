// `skydeck users ...` and `skydeck tokens ...`. Against a team server the CLI is logged in to (and no
// --data-dir given) they go through the admin HTTP API as the logged-in caller,
// who must be an admin. Otherwise the accounts are the files in a data dir on this machine, which the
// server program manages (how the first admin is made): the CLI hands the command to the bundled server.js.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ACCOUNT_ROLES, type AccountChangeResponse, type AccountRole } from '../../../protocol/dashboard';
import { table } from '../../format';
import { cliContext } from '../context';
import { CliExit, EXIT, note, print, printJson } from '../output';

export async function manage(group: 'users' | 'tokens', args: string[]): Promise<void> {
  const onMachine = args.some((a) => a === '--data-dir' || a.startsWith('--data-dir=') || a === '-h' || a === '--help');
  const { endpoint } = cliContext();
  // Credentials other than the local token (a login, or user:password in the URL) name a team server.
  if (!onMachine && (!endpoint.local || (endpoint.authorization !== undefined && endpoint.localSocket === undefined))) return remote(group, args);
  const child = spawn(process.execPath, [join(__dirname, 'server.js'), group, ...args], { stdio: 'inherit' });
  process.exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

async function remote(group: 'users' | 'tokens', args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { role: { type: 'string' }, 'password-stdin': { type: 'boolean' }, 'generate-password': { type: 'boolean' }, expires: { type: 'string' }, json: { type: 'boolean' } },
    });
  } catch (err) {
    throw new CliExit(EXIT.usage, `Error: ${(err as Error).message} (see skydeck ${group} --help)`);
  }
  const { values, positionals } = parsed;
  const [action, name, extra] = positionals;
  const role = (text: string | undefined): AccountRole => {
    if (text === undefined) return 'user';
    if (!(ACCOUNT_ROLES as readonly string[]).includes(text)) throw new CliExit(EXIT.usage, `Error: role must be one of ${ACCOUNT_ROLES.join(', ')}, got '${text}'`);
    return text as AccountRole;
  };
  const need = (what: string | undefined, label: string) => {
    if (!what) throw new CliExit(EXIT.usage, `Error: give the ${label}`);
    return what;
  };
  const password = () => (values['password-stdin'] ? (readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '') : undefined);
  const show = (answer: AccountChangeResponse) => {
    print(answer.message + (answer.sessionsEnded ? ` ${answer.sessionsEnded} dashboard session(s) ended.` : ''));
    if (answer.generatedPassword) print(`Generated password (shown only now): ${answer.generatedPassword}`);
  };
  const { client } = cliContext();
  try {
    switch (`${group} ${action}`) {
      case 'users list': {
        const { users } = await client.accounts.users();
        if (values.json) return printJson(users);
        return print(table(users, [
          { header: 'NAME', value: (u) => u.name },
          { header: 'ROLE', value: (u) => u.role },
          { header: 'CREATED', value: (u) => new Date(u.createdAt).toISOString() },
        ]));
      }
      case 'users add': {
        const pw = password();
        if (pw === undefined && !values['generate-password']) throw new CliExit(EXIT.usage, 'Error: pass --password-stdin (and pipe it in) or --generate-password');
        return show(await client.accounts.addUser({ name: need(name, 'user name'), role: role(values.role), ...(pw !== undefined ? { password: pw } : {}) }));
      }
      case 'users set-password': {
        const pw = password();
        if (pw === undefined && !values['generate-password']) throw new CliExit(EXIT.usage, 'Error: pass --password-stdin (and pipe it in) or --generate-password');
        return show(await client.accounts.changeUser(need(name, 'user name'), pw !== undefined ? { password: pw } : { generatePassword: true }));
      }
      case 'users set-role':
        return show(await client.accounts.changeUser(need(name, 'user name'), { role: role(need(extra, 'role: admin or user')) }));
      case 'users remove':
        return show(await client.accounts.removeUser(need(name, 'user name')));
      case 'tokens list': {
        const { tokens } = await client.accounts.tokens();
        if (values.json) return printJson(tokens);
        return print(table(tokens, [
          { header: 'ID', value: (t) => t.id },
          { header: 'NAME', value: (t) => t.name },
          { header: 'ROLE', value: (t) => t.role },
          { header: 'CREATED', value: (t) => new Date(t.createdAt).toISOString() },
          { header: 'EXPIRES', value: (t) => (t.expiresAt ? new Date(t.expiresAt).toISOString() : 'never') },
        ]));
      }
      case 'tokens create': {
        const expiresInDays = values.expires === undefined ? undefined : days(values.expires);
        const created = await client.accounts.createToken({ name: need(name, 'token name'), role: role(values.role), ...(expiresInDays !== undefined ? { expiresInDays } : {}) });
        note(`Created token ${created.token.id} for service account ${created.token.name}. It is shown only now:`);
        return print(created.secret);
      }
      case 'tokens revoke':
        return show(await client.accounts.revokeToken(need(name, 'token id or name')));
      default:
        throw new CliExit(EXIT.usage, `Error: unknown command: skydeck ${group} ${action ?? ''} (see skydeck ${group} --help)`);
    }
  } finally {
    client.close();
  }
}

/** `30d`, `12h` or a plain number of days. */
function days(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([dh]?)$/.exec(text.trim());
  if (!m) throw new CliExit(EXIT.usage, `Error: --expires takes days or hours, such as 30d or 12h, got '${text}'`);
  return Number(m[1]) / (m[2] === 'h' ? 24 : 1);
}

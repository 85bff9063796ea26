// `skydeck-server users ...` and `skydeck-server tokens ...` (also reached as `skydeck users|tokens`):
// manage the accounts of a team server by editing the files in its data dir. A running server picks
// the changes up on its next call. Passwords are read without echo, or from stdin for scripts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MIN_PASSWORD_LENGTH } from '../../protocol/dashboard';
import { table } from '../../protocol/text-table';
import { askHidden as askHiddenLine, PromptCancelled } from '../../shared/terminal-prompt';
import { parseDuration, skydeckHome } from '../config';
import { fail, isSkyDeckError } from '../errors';
import { AccountAdmin, generatePassword } from './account-admin';
import { ROLES } from './accounts';
import type { Role } from './identity';

export const ADMIN_USAGE = `Usage:
  skydeck users add NAME [--role admin|user] [--password-stdin | --generate-password]
  skydeck users set-password NAME [--password-stdin | --generate-password]
  skydeck users set-role NAME admin|user
  skydeck users remove NAME
  skydeck users list [--json]
  skydeck tokens create NAME [--role admin|user] [--expires 30d]
  skydeck tokens list [--json]
  skydeck tokens revoke ID|NAME

Every command takes --data-dir DIR: the team server's data dir (default $SKYDECK_HOME/server).
Run them on the server's machine, as the user the server runs as; the server needs no restart.`;

export async function runAdmin(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const [group, given, ...rest] = argv;
  // `skydeck users --help` asks for help, not for an action named --help.
  const action = given?.startsWith('-') ? undefined : given;
  if (given !== action && given !== '-h' && given !== '--help') rest.unshift(given!);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        role: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        'generate-password': { type: 'boolean' },
        expires: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw fail.config_invalid(`${(err as Error).message}\n\n${ADMIN_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help || action === undefined) return out(ADMIN_USAGE);
  const accounts = new AccountAdmin(path.resolve(values['data-dir'] ?? path.join(skydeckHome(), 'server')), { keepAnAdmin: false });
  const { files } = accounts;
  const name = positionals[0];
  const needName = () => {
    if (!name) throw fail.config_invalid(`give a name\n\n${ADMIN_USAGE}`);
    return name;
  };
  const role = (text: string | undefined, fallback: Role): Role => {
    if (text === undefined) return fallback;
    if (!(ROLES as readonly string[]).includes(text)) throw fail.config_invalid(`role must be one of ${ROLES.join(', ')}, got '${text}'`);
    return text as Role;
  };

  try {
    switch (`${group} ${action}`) {
      case 'users add': {
        const n = needName();
        const r = role(values.role, 'user');
        await accounts.addUser(n, r, await newPassword(values, out));
        return out(`Added user ${n} (${r}) to ${files.users}.`);
      }
      case 'users set-password': {
        const n = needName();
        await accounts.changeUser(n, { password: await newPassword(values, out) });
        return out(`Changed the password of ${n}.`);
      }
      case 'users set-role': {
        const n = needName();
        if (positionals[1] === undefined) throw fail.config_invalid('give the role: admin or user');
        const r = role(positionals[1], 'user');
        await accounts.changeUser(n, { role: r });
        return out(`${n} is now ${r}.`);
      }
      case 'users remove': {
        const n = needName();
        accounts.removeUser(n);
        return out(`Removed user ${n}.${accounts.hasAccounts() ? '' : ' No accounts are left: the server is a local server again (loopback and its local token only).'}`);
      }
      case 'users list': {
        const list = accounts.users().map(({ name: n, role: r, createdAt }) => ({ name: n, role: r, createdAt: new Date(createdAt).toISOString() }));
        if (values.json) return out(JSON.stringify(list, null, 2));
        if (list.length === 0) return out(`No users in ${files.users}.`);
        return out(table(list, [
          { header: 'NAME', value: (u) => u.name },
          { header: 'ROLE', value: (u) => u.role },
          { header: 'CREATED', value: (u) => u.createdAt },
        ]));
      }
      case 'tokens create': {
        const n = needName();
        const lifetimeMs = values.expires === undefined ? undefined : parseDuration(values.expires, '--expires');
        const { token, secret } = accounts.createToken(n, role(values.role, 'user'), lifetimeMs);
        process.stderr.write(`Created token ${token.id} for service account ${n}${token.expiresAt ? `, expires ${new Date(token.expiresAt).toISOString()}` : ', no expiry'}. It is shown only now:\n`);
        return out(secret);
      }
      case 'tokens list': {
        const now = Date.now();
        const list = accounts.tokens().map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          createdAt: new Date(t.createdAt).toISOString(),
          expiresAt: t.expiresAt === undefined ? null : new Date(t.expiresAt).toISOString(),
          expired: t.expiresAt !== undefined && t.expiresAt <= now,
        }));
        if (values.json) return out(JSON.stringify(list, null, 2));
        if (list.length === 0) return out(`No tokens in ${files.tokens}.`);
        return out(table(list, [
          { header: 'ID', value: (t) => t.id },
          { header: 'NAME', value: (t) => t.name },
          { header: 'ROLE', value: (t) => t.role },
          { header: 'CREATED', value: (t) => t.createdAt },
          { header: 'EXPIRES', value: (t) => (t.expiresAt === null ? 'never' : `${t.expiresAt}${t.expired ? ' (expired)' : ''}`) },
        ]));
      }
      case 'tokens revoke': {
        if (!name) throw fail.config_invalid('give the token id or name to revoke');
        const { token } = accounts.revokeToken(name);
        return out(`Revoked token ${token.id} (${token.name}); it stops working at once.`);
      }
      default:
        throw fail.config_invalid(`unknown command: ${[group, action].join(' ')}\n\n${ADMIN_USAGE}`);
    }
  } catch (err) {
    // The shared account rules refuse with their own codes (conflict, not_found); on the machine every
    // refusal ends the command the same way (exit 2).
    throw isSkyDeckError(err) ? fail.config_invalid(err.message) : err;
  }
}

async function newPassword(values: { 'password-stdin'?: boolean; 'generate-password'?: boolean }, out: (line: string) => void): Promise<string> {
  if (values['generate-password']) {
    const password = generatePassword();
    out(`Generated password (shown only now): ${password}`);
    return password;
  }
  let password: string;
  if (values['password-stdin']) {
    password = readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  } else {
    if (!process.stdin.isTTY) throw fail.config_invalid('no terminal to ask for a password: pass --password-stdin (and pipe it in) or --generate-password');
    password = await askHidden('Password: ');
    if ((await askHidden('Again: ')) !== password) throw fail.config_invalid('the two passwords differ');
  }
  if (password.length < MIN_PASSWORD_LENGTH) throw fail.config_invalid(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

/** The shared hidden prompt; Ctrl-C is a config_invalid 'cancelled', as every refusal here. */
async function askHidden(prompt: string): Promise<string> {
  try {
    return await askHiddenLine(prompt);
  } catch (err) {
    throw err instanceof PromptCancelled ? fail.config_invalid('cancelled') : err;
  }
}

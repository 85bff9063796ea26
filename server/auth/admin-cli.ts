// `skydeck-server users ...` and `skydeck-server tokens ...` (also reached as `skydeck users|tokens`):
// manage the accounts of a team server by editing the files in its data dir. A running server picks
// the changes up on its next call. Passwords are read without echo, or from stdin for scripts.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { table } from '../../protocol/text-table';
import { askHidden as askHiddenLine, PromptCancelled } from '../../shared/terminal-prompt';
import { ConfigError, parseDuration, skydeckHome } from '../config';
import { accountFiles, LOGIN_NAME, LOGIN_NAME_RULE, newToken, parseTokens, parseUsers, ROLES, tokensText, usersText, type TokenEntry, type UserEntry } from './accounts';
import type { Role } from './identity';
import { WatchedFile, writeOwnerFile } from './owner-file';
import { hashPassword } from './passwords';

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

const MIN_PASSWORD = 8;

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
    throw new ConfigError(`${(err as Error).message}\n\n${ADMIN_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help || action === undefined) return out(ADMIN_USAGE);
  const files = accountFiles(path.resolve(values['data-dir'] ?? path.join(skydeckHome(), 'server')));
  const users = () => new WatchedFile(files.users, parseUsers, []).current();
  const tokens = () => new WatchedFile(files.tokens, parseTokens, []).current();
  const saveUsers = (list: UserEntry[]) => writeOwnerFile(files.users, usersText(list));
  const saveTokens = (list: TokenEntry[]) => writeOwnerFile(files.tokens, tokensText(list));
  const name = positionals[0];
  const needName = () => {
    if (!name) throw new ConfigError(`give a name\n\n${ADMIN_USAGE}`);
    if (!LOGIN_NAME.test(name)) throw new ConfigError(`'${name.slice(0, 64)}' is not a valid name: ${LOGIN_NAME_RULE}`);
    return name;
  };
  const role = (text: string | undefined, fallback: Role): Role => {
    if (text === undefined) return fallback;
    if (!(ROLES as readonly string[]).includes(text)) throw new ConfigError(`role must be one of ${ROLES.join(', ')}, got '${text}'`);
    return text as Role;
  };
  const findUser = (list: UserEntry[], n: string) => {
    const i = list.findIndex((u) => u.name.toLowerCase() === n.toLowerCase());
    if (i < 0) throw new ConfigError(`no user ${n} in ${files.users}`);
    return i;
  };

  switch (`${group} ${action}`) {
    case 'users add': {
      const n = needName();
      const list = users();
      if (list.some((u) => u.name.toLowerCase() === n.toLowerCase())) throw new ConfigError(`user ${n} already exists; use set-password or set-role`);
      const password = await newPassword(values, out);
      list.push({ name: n, role: role(values.role, 'user'), password: await hashPassword(password), createdAt: Date.now() });
      saveUsers(list);
      return out(`Added user ${n} (${role(values.role, 'user')}) to ${files.users}.`);
    }
    case 'users set-password': {
      const list = users();
      const i = findUser(list, needName());
      list[i] = { ...list[i]!, password: await hashPassword(await newPassword(values, out)) };
      saveUsers(list);
      return out(`Changed the password of ${list[i]!.name}.`);
    }
    case 'users set-role': {
      const list = users();
      const i = findUser(list, needName());
      if (positionals[1] === undefined) throw new ConfigError('give the role: admin or user');
      list[i] = { ...list[i]!, role: role(positionals[1], 'user') };
      saveUsers(list);
      return out(`${list[i]!.name} is now ${list[i]!.role}.`);
    }
    case 'users remove': {
      const list = users();
      const [removed] = list.splice(findUser(list, needName()), 1);
      saveUsers(list);
      return out(`Removed user ${removed!.name}.${list.length === 0 && tokens().length === 0 ? ' No accounts are left: the server is a local server again (loopback and its local token only).' : ''}`);
    }
    case 'users list': {
      const list = users().map(({ name: n, role: r, createdAt }) => ({ name: n, role: r, createdAt: new Date(createdAt).toISOString() }));
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
      const list = tokens();
      if (list.some((t) => t.name.toLowerCase() === n.toLowerCase())) throw new ConfigError(`a token named ${n} exists; revoke it first or pick another name`);
      const expiresAt = values.expires === undefined ? undefined : Date.now() + parseDuration(values.expires, '--expires');
      const fresh = newToken();
      list.push({ id: fresh.id, name: n, role: role(values.role, 'user'), sha256: fresh.sha256, createdAt: Date.now(), ...(expiresAt !== undefined ? { expiresAt } : {}) });
      saveTokens(list);
      process.stderr.write(`Created token ${fresh.id} for service account ${n}${expiresAt ? `, expires ${new Date(expiresAt).toISOString()}` : ', no expiry'}. It is shown only now:\n`);
      return out(fresh.token);
    }
    case 'tokens list': {
      const now = Date.now();
      const list = tokens().map((t) => ({
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
      if (!name) throw new ConfigError('give the token id or name to revoke');
      const list = tokens();
      const i = list.findIndex((t) => t.id === name || t.name.toLowerCase() === name.toLowerCase());
      if (i < 0) throw new ConfigError(`no token ${name} in ${files.tokens}`);
      const [revoked] = list.splice(i, 1);
      saveTokens(list);
      return out(`Revoked token ${revoked!.id} (${revoked!.name}); it stops working at once.`);
    }
    default:
      throw new ConfigError(`unknown command: ${[group, action].join(' ')}\n\n${ADMIN_USAGE}`);
  }
}

async function newPassword(values: { 'password-stdin'?: boolean; 'generate-password'?: boolean }, out: (line: string) => void): Promise<string> {
  if (values['generate-password']) {
    const password = randomBytes(18).toString('base64url');
    out(`Generated password (shown only now): ${password}`);
    return password;
  }
  let password: string;
  if (values['password-stdin']) {
    password = readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  } else {
    if (!process.stdin.isTTY) throw new ConfigError('no terminal to ask for a password: pass --password-stdin (and pipe it in) or --generate-password');
    password = await askHidden('Password: ');
    if ((await askHidden('Again: ')) !== password) throw new ConfigError('the two passwords differ');
  }
  if (password.length < MIN_PASSWORD) throw new ConfigError(`the password must have at least ${MIN_PASSWORD} characters`);
  return password;
}

/** The shared hidden prompt; Ctrl-C is a ConfigError('cancelled'), as every refusal here. */
async function askHidden(prompt: string): Promise<string> {
  try {
    return await askHiddenLine(prompt);
  } catch (err) {
    throw err instanceof PromptCancelled ? new ConfigError('cancelled') : err;
  }
}

// Where SkyDeck keeps its per-user state: config, user hash, the local server's data and logs.
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

/** SKYDECK_HOME, else ~/.skydeck. Tests and several users on one machine each get their own. */
export function skydeckHome(env: Env = process.env): string {
  const configured = env.SKYDECK_HOME?.trim();
  return configured ? configured : join(homedir(), '.skydeck');
}

/** Files under SKYDECK_HOME that the client reads or writes. */
export function homePaths(home: string) {
  const serverDir = join(home, 'server');
  return {
    home,
    config: join(home, 'config.yaml'),
    userHash: join(home, 'user_hash'),
    /** The data dir a locally started server gets. */
    serverDir,
    /** Written by the server once it listens; removed on a clean exit. */
    serverInfo: join(serverDir, 'server.json'),
    serverLog: join(serverDir, 'server.log'),
    /** Held while a client starts the local server, so two clients never start two. */
    startLock: join(serverDir, 'autostart.lock'),
    /** The CLI's compiled code (client/cli/bundle-loader.ts); anything in it may be deleted at any time. */
    codeCache: join(home, 'code-cache'),
  };
}

export type HomePaths = ReturnType<typeof homePaths>;

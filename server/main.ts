// The standalone API server: `node dist/server.js [--host H] [--port P] [--data-dir DIR]`.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { VERSION } from '../protocol/build-info';
import { runAdmin } from './auth/admin-cli';
import { serverProtection } from './auth/setup';
import { parseServerArgs, USAGE } from './config';
import { Core } from './core';
import { createHttpServer } from './http/app';
import { listenOnSocket } from './http/local-socket';
import { localSocketPath } from '../shared/local-socket';
import { createBackends } from './infra/registry';
import { jobIsolationProblem, JobUsers } from './infra/local/job-users';
import { lockDataDir } from './data-dir-lock';
import { fail, isSkyDeckError } from './errors';

const LOCAL_INFRA_OFF =
  'local infra is off on this team server; use an SSH node pool or Slurm (the operator may turn it on with --team-local-infra, which runs each cluster\'s jobs under a uid of its own: see docs/deploy.md)';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'users' || argv[0] === 'tokens') return runAdmin(argv);
  const config = parseServerArgs(argv);
  if (config === 'help') {
    console.log(USAGE);
    return;
  }
  // Everything the server writes (store, logs, tokens) is its owner's alone; jobs set their own umask.
  process.umask(0o077);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(config.dataDir);
  process.on('exit', unlock);
  const t0 = performance.now();
  const protection = serverProtection(config, log);
  // With local infra for a team, jobs never run as this server's user: refuse to start rather than fall back.
  const problem = config.teamLocalInfra ? jobIsolationProblem(config.jobIsolation) : undefined;
  if (problem) throw fail.config_invalid(problem);
  const core = await Core.open({
    dataDir: config.dataDir,
    backends: createBackends({
      home: config.home,
      dataDir: config.dataDir,
      // Local jobs of a team run under uids of their own, and only when the operator says so.
      localRefusal: () => (protection.authenticator.team && !config.teamLocalInfra ? LOCAL_INFRA_OFF : undefined),
      jobUsers: config.teamLocalInfra ? new JobUsers(config.jobIsolation) : undefined,
    }),
    authenticator: protection.authenticator,
    retentionMs: config.retentionMs,
    longConcurrency: config.longConcurrency,
    refreshIntervalMs: config.refreshIntervalMs,
    log,
  });
  const { server, hub, alsoServe } = createHttpServer(core, protection.gate, (err) => log(`internal error: ${(err as Error)?.stack ?? String(err)}`), protection.limits);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  }).catch((err: NodeJS.ErrnoException) => {
    const reason = err.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is already in use (another SkyDeck server? try: skydeck api info)` : err.message;
    throw fail.config_invalid(`cannot listen on ${config.host}:${config.port}: ${reason}`);
  });
  // A loopback server also serves its owner's clients on a socket only they can open (they send the
  // local token nowhere else); TCP stays for browsers and for clients with team credentials.
  const { port } = server.address() as AddressInfo;
  const socketPath = protection.loopback ? localSocketPath(config.dataDir, port) : undefined;
  const socketServer = socketPath ? alsoServe() : undefined;
  if (socketPath && socketServer) await listenOnSocket(socketServer, socketPath);
  // A server on every interface is reached locally through loopback.
  const reachAt = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  const url = httpUrl(reachAt, port);
  const infoFile = path.join(config.dataDir, 'server.json');
  // Written whole or not at all: clients poll for this file and must never read half of it.
  try {
    writeFileSync(`${infoFile}.tmp`, JSON.stringify({ pid: process.pid, host: config.host, port, url, version: VERSION, startedAt: core.startedAt }) + '\n', { mode: 0o600 });
    renameSync(`${infoFile}.tmp`, infoFile);
  } catch (err) {
    // A full disk: the server still serves on its address, read-only enough to show status and clean up.
    rmSync(`${infoFile}.tmp`, { force: true });
    log(`could not write ${infoFile}: ${(err as Error).message}`);
  }
  log(`SkyDeck API server listening on ${httpUrl(config.host, port)} (data in ${config.dataDir}, ready in ${Math.round(performance.now() - t0)} ms; auth: ${protection.authenticator.mode})`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping; running jobs keep running and are picked up at the next start`);
    setTimeout(() => process.exit(1), 10_000).unref();
    server.close();
    socketServer?.close();
    hub.close();
    server.closeIdleConnections();
    socketServer?.closeIdleConnections();
    if (socketPath) rmSync(socketPath, { force: true });
    await core.close();
    rmSync(infoFile, { force: true });
    // Streams still open (followers of long requests) end with the process.
    process.exit(0);
  };
  // A failure nobody awaited (a store write on a full disk, a backend callback) is a bug to log, not
  // a reason to stop serving every other request.
  process.on('unhandledRejection', (err) => log(`internal error (unhandled): ${(err as Error)?.stack ?? String(err)}`));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  // Settings that are not usable (config_invalid) end with their message and status 2, like a usage error.
  if (isSkyDeckError(err) && err.code === 'config_invalid') {
    process.stderr.write(`skydeck-server: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`skydeck-server: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

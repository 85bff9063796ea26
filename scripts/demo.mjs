// `npm run demo`: builds the bundles, then launches examples/hello.yaml on a local cluster named `demo`.
// The CLI starts the local API server by itself (in ~/.skydeck, or SKYDECK_HOME) and streams the job's log.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const build = spawnSync(process.execPath, ['esbuild.config.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const cli = spawn(process.execPath, ['dist/cli.js', 'launch', 'examples/hello.yaml', '-c', 'demo', '-y'], { cwd: root, stdio: 'inherit' });
// Ctrl+C reaches the CLI too (same terminal); it detaches and says how to reattach. Wait for it to do so.
process.on('SIGINT', () => {});
cli.on('exit', (code, signal) => {
  if (code === 0) {
    console.log('\nThe local API server keeps running. Try: node dist/cli.js api status -a, node dist/cli.js queue demo,');
    console.log('node dist/cli.js down demo -y, and node dist/cli.js api stop when you are done.');
  }
  process.exit(code ?? (signal ? 1 : 0));
});

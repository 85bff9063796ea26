// Builds the four bundles in dist/: the standalone server, the CLI, the VS Code extension and the webview.
import { build } from 'esbuild';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
})();
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // ssh2 loads its optional native addons inside try/catch and falls back to plain JavaScript.
  external: ['*.node'],
  define: { __SKYDECK_VERSION__: JSON.stringify(pkg.version), __SKYDECK_COMMIT__: JSON.stringify(commit) },
};

await Promise.all([
  build({ ...node, entryPoints: ['server/main.ts'], outfile: 'dist/server.js', banner: { js: '#!/usr/bin/env node' } }),
  build({ ...node, entryPoints: ['client/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
  build({ ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', '*.node'] }),
  build({
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
  }),
]);

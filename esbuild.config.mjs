// Builds the bundles in dist/: the standalone server (which carries the dashboard), the CLI, the VS Code
// extension, the webview and the dashboard.
// `--watch` keeps rebuilding them on change (`npm run watch`, the F5 pre-launch task in .vscode/).
import { build, context } from 'esbuild';
import { execSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
})();
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// zod re-exports all of its ~40 message locales as `z.locales`; SkyDeck uses none but English (which zod
// registers by itself), yet every bundle carried and compiled them all: a third of zod's size, paid at each
// start of the CLI. `z.locales` keeps only `en`.
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: args.importer, namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from '../locales/en.js';",
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

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
  plugins: [englishOnlyZod],
};

// Always minified: browsers on phones load it.
const dashboard = {
  entryPoints: { dashboard: 'dashboard/main.tsx' },
  outdir: 'dist/dashboard',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  logLevel: 'warning',
};
// Built first, so that the server bundle carries it and serves it from memory: the server stays one file
// that needs only Node. In watch mode the server reads dist/dashboard/ instead, so page edits show too.
let carried = {};
if (!watch) {
  await build(dashboard);
  const files = { js: readFileSync('dist/dashboard/dashboard.js', 'utf8'), css: readFileSync('dist/dashboard/dashboard.css', 'utf8') };
  carried = { define: { ...node.define, __SKYDECK_DASHBOARD__: JSON.stringify(files) } };
}

// The CLI is several bundles in dist/: cli.js (the `skydeck` program: a few lines), cli-main.js (its
// commander program, client/cli/main.ts), one cli-<command>.js per file of client/cli/commands/, which
// main.ts's `import('./commands/X')` loads when the command runs, and cli-shared.js. `--version`, `--help`
// and each command compile only what they use, not every command's code and libraries at every start
// (issue 8: the CLI's start-up was most of `launch --dryrun`'s time), and client/cli/bundle-loader.ts
// compiles each bundle from a code cache.
const cliCommands = Object.fromEntries(
  readdirSync('client/cli/commands')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`cli-${f.slice(0, -3)}`, `client/cli/commands/${f}`]),
);
const commandsApart = {
  name: 'cli-commands-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[\w-]+$/ }, (args) =>
      /[\\/]client[\\/]cli[\\/]main\.ts$/.test(args.importer) ? { path: args.path.slice('./commands/'.length), namespace: 'cli-command' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'cli-command' }, (args) => ({
      contents: `module.exports = require('./bundle-loader').loadBundle(${JSON.stringify(args.path)});`,
      resolveDir: path.resolve('client/cli'),
      loader: 'js',
    }));
  },
};
// The modules every CLI bundle uses one copy of (dist/cli-shared.js, client/cli/shared.ts): the error
// classes, so that `instanceof` holds for what a command's bundle throws, and the bundle loader. The other
// CLI bundles require that file instead of carrying their own copy.
const cliShared = ['client/errors.ts', 'client/cli/output.ts', 'protocol/task-issues.ts', 'client/cli/bundle-loader.ts'].map((f) => path.resolve(f));
const sharedApart = {
  name: 'cli-shared-apart',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.namespace !== 'file' && args.namespace !== 'cli-command' && args.namespace !== 'cli-apart') return undefined;
      const target = path.resolve(args.resolveDir, args.path);
      return cliShared.includes(`${target}.ts`) || cliShared.includes(target) ? { path: './cli-shared.js', external: true } : undefined;
    });
  },
};
// Node's crypto, https, child_process and readline take milliseconds each to load, and most CLI commands
// never call them (a random id for a submit, TLS for a remote server, a prompt...). In the CLI's bundles
// each of their functions is a stand-in that loads the module on its first call.
const require = createRequire(import.meta.url);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(crypto|https|child_process|readline)$/ }, (args) =>
      args.namespace === 'lazy-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const real = require(`node:${args.path}`);
      const functions = Object.keys(real).filter((k) => typeof real[k] === 'function' && /^[A-Za-z_$][\w$]*$/.test(k));
      const stand_ins = functions.map((k) => `export function ${k}(...args) { return new.target ? new (load().${k})(...args) : load().${k}(...args); }`);
      return { contents: [`let loaded;`, `const load = () => (loaded ??= require('node:${args.path}'));`, ...stand_ins].join('\n'), loader: 'js' };
    });
  },
};
const cli = { ...node, plugins: [...node.plugins, lazyBuiltins, sharedApart] };
// The functions that need yaml and zod (client/validation.ts), and yaml alone (client/yaml-parse.ts), are
// bundles of their own: dist/cli-validation.js, dist/cli-yaml-parse.js. In the other CLI bundles each of
// their functions is a stand-in that loads its bundle on the first call: a launch of a task file validated
// before (client/cli/task-cache.ts) calls none, and most commands read no YAML.
const apart = { validation: path.resolve('client/validation.ts'), 'yaml-parse': path.resolve('client/yaml-parse.ts') };
const librariesApart = {
  name: 'libraries-apart',
  setup(b) {
    b.onResolve({ filter: /[\\/](validation|yaml-parse)$/ }, (args) => {
      const target = path.resolve(args.resolveDir, `${args.path}.ts`);
      const name = Object.keys(apart).find((k) => apart[k] === target);
      return name ? { path: name, namespace: 'cli-apart' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'cli-apart' }, async (args) => {
      // The module's export names, as esbuild reads them (without bundling it).
      const { metafile } = await build({ entryPoints: [apart[args.path]], bundle: false, write: false, metafile: true, outdir: 'dist', logLevel: 'silent' });
      const names = Object.values(metafile.outputs).flatMap((o) => o.exports);
      const stand_ins = names.map((k) => `export function ${k}(...args) { return load().${k}(...args); }`);
      return {
        contents: [`import { loadBundle } from './bundle-loader';`, `const load = () => loadBundle(${JSON.stringify(args.path)});`, ...stand_ins].join('\n'),
        resolveDir: path.resolve('client/cli'),
        loader: 'js',
        // `npm run watch` makes the stand-ins again when the module's exports change.
        watchFiles: [apart[args.path]],
      };
    });
  },
};

const bundles = [
  { ...node, ...carried, entryPoints: ['server/main.ts'], outfile: 'dist/server.js', banner: { js: '#!/usr/bin/env node' }, external: [...node.external, 'node-pty'] },
  { ...cli, entryPoints: ['client/cli/bin.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  {
    ...cli,
    entryPoints: { 'cli-main': 'client/cli/main.ts', ...cliCommands },
    outdir: 'dist',
    plugins: [...cli.plugins, commandsApart, librariesApart],
    // main.ts's import() of a command becomes a require() of its stand-in: a real import() would send the
    // command's bundle through the ESM loader, whose scan of a CommonJS file for its exports costs more
    // than the split saves.
    supported: { 'dynamic-import': false },
  },
  { ...node, entryPoints: { 'cli-shared': 'client/cli/shared.ts' }, outdir: 'dist', plugins: [...node.plugins, lazyBuiltins] },
  { ...cli, entryPoints: { 'cli-validation': 'client/cli/validation-bundle.ts', 'cli-yaml-parse': 'client/yaml-parse.ts' }, outdir: 'dist' },
  { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', '*.node'] },
  {
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
  },
  ...(watch ? [dashboard] : []),
];

// The watch task's problem matcher (.vscode/tasks.json) reads the one-line errors and waits for the
// started/finished lines, which frame all four bundles: F5 starts the host once every bundle is written.
let building = 0;
let errors = 0;
const announce = {
  name: 'announce',
  setup(b) {
    b.onStart(() => {
      if (building++ === 0) console.log('[watch] build started');
    });
    b.onEnd((r) => {
      errors += r.errors.length;
      for (const e of r.errors) {
        const at = e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}` : 'esbuild.config.mjs:1:1';
        console.log(`[watch] error ${at}: ${e.text}`);
      }
      if (--building > 0) return;
      console.log(`[watch] build finished${errors ? ` with ${errors} error(s)` : ''}`);
      errors = 0;
    });
  },
};
// Terminals run under node-pty, a native addon that no bundle can hold: its JavaScript and the addon
// built for this machine are copied beside the server bundle, which loads them from dist/vendor/.
const pty = 'node_modules/node-pty';
rmSync('dist/vendor/node-pty', { recursive: true, force: true });
if (existsSync(`${pty}/build/Release/pty.node`)) {
  cpSync(`${pty}/package.json`, 'dist/vendor/node-pty/package.json');
  cpSync(`${pty}/LICENSE`, 'dist/vendor/node-pty/LICENSE');
  cpSync(`${pty}/build/Release/pty.node`, 'dist/vendor/node-pty/build/Release/pty.node');
  cpSync(`${pty}/lib`, 'dist/vendor/node-pty/lib', { recursive: true, filter: (f) => !/\.(test\.js|map)$/.test(f) });
}

const contexts = await Promise.all(bundles.map((options) => context(watch ? { ...options, plugins: [...(options.plugins ?? []), announce] } : options)));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}

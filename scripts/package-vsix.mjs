// Packages the VS Code extension: builds minified bundles, stages build/vsix/ with exactly what ships
// (manifest, dist/extension.js, dist/server.js, dist/webview.js, media/, README, LICENSE), and runs vsce offline
// into skydeck-<version>.vsix at the repository root. `--skip-build` reuses dist/ as it is.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'build', 'vsix');
const started = Date.now();
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });

if (!process.argv.includes('--skip-build')) run(process.execPath, ['esbuild.config.mjs', '--production']);

const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const manifest = JSON.parse(readFileSync(join(root, 'extension', 'package.json'), 'utf8'));
// One version for the whole project: the manifest follows the root package.json.
manifest.version = version;

rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'dist'), { recursive: true });
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
for (const bundle of ['extension.js', 'server.js', 'webview.js']) copyFileSync(join(root, 'dist', bundle), join(stage, 'dist', bundle));
cpSync(join(root, 'media'), join(stage, 'media'), { recursive: true });
copyFileSync(join(root, 'extension', 'README.md'), join(stage, 'README.md'));
copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
copyFileSync(join(root, '.vscodeignore'), join(stage, '.vscodeignore'));

const out = join(root, `skydeck-${version}.vsix`);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out], stage);
console.log(`packaged ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

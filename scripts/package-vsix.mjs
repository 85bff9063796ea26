// Packages the VS Code extension from the repository root, where package.json is its manifest and
// .vscodeignore says what ships: builds minified bundles, then runs vsce offline into
// skydeck-<version>.vsix. The marketplace page is extension/README.md (the root README is the project's).
// `--skip-build` reuses dist/ as it is; `--out PATH` writes the .vsix there (a test's own folder) instead.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

if (!process.argv.includes('--skip-build')) run(process.execPath, ['esbuild.config.mjs', '--production']);

const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? process.argv[outFlag + 1] : join(root, `skydeck-${version}.vsix`);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--readme-path', 'extension/README.md', '--out', out]);
console.log(`packaged ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

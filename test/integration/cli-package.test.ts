// The CLI as a user installs it: `npm pack` of the checkout, installed into a private prefix, and the
// installed `skydeck` run against a real server. The CLI is several bundles (one per command, loaded
// when the command runs), so a file the package leaves out only shows when that command runs.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cliEnv } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

const ROOT = path.resolve(__dirname, '../..');
let server: TestServer;
let scratch: string;
let skydeck: string;

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'skydeck-package-'));
  const npmEnv = { ...process.env, npm_config_cache: path.join(scratch, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: ROOT, env: npmEnv, encoding: 'utf8' })) as { filename: string }[];
  const prefix = path.join(scratch, 'prefix');
  execFileSync('npm', ['install', '-g', '--offline', '--ignore-scripts', '--prefix', prefix, path.join(scratch, packed[0]!.filename)], { env: npmEnv, stdio: 'pipe' });
  skydeck = path.join(prefix, 'bin', 'skydeck');
  server = await startServer();
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('the package holds every CLI bundle the build made', () => {
  const installed = new Set(readdirSync(path.join(path.dirname(skydeck), '..', 'lib', 'node_modules', 'skydeck', 'dist')));
  const built = readdirSync(path.join(ROOT, 'dist')).filter((f) => /^cli(-.+)?\.js$/.test(f));
  assert.ok(built.length > 1, `the build makes the CLI's command bundles (${built.join(', ')})`);
  for (const file of built) assert.ok(installed.has(file), `${file} is in the package`);
});

const ERROR_NAMES = /["'](ClientError|ApiError|ConnectionError|CliExit|TaskValidationError)["']/;

test('the command bundles take the error classes from the one shared bundle, so instanceof holds across them', () => {
  const dist = path.join(path.dirname(skydeck), '..', 'lib', 'node_modules', 'skydeck', 'dist');
  const bundles = readdirSync(dist).filter((f) => /^cli-.+\.js$/.test(f) && f !== 'cli-shared.js');
  assert.ok(bundles.includes('cli-main.js') && bundles.includes('cli-launch.js'), bundles.join(', '));
  for (const file of bundles) {
    const code = readFileSync(path.join(dist, file), 'utf8');
    // cli-yaml-parse.js is the yaml library alone, which throws none of them.
    if (file !== 'cli-yaml-parse.js') assert.match(code, /require\("\.\/cli-shared\.js"\)/, `${file} requires cli-shared.js`);
    // Each class sets its name as a string, which survives minifying.
    assert.doesNotMatch(code, ERROR_NAMES, `${file} has no copy of its own`);
  }
  assert.match(readFileSync(path.join(dist, 'cli-shared.js'), 'utf8'), ERROR_NAMES);
});

test('yaml and zod are only in the bundles that load them on demand: a command carries neither', () => {
  const dist = path.join(path.dirname(skydeck), '..', 'lib', 'node_modules', 'skydeck', 'dist');
  // Strings each library has, minified or not: zod's global config, yaml's error class.
  const zod = /__zod_globalConfig/;
  const yaml = /YAMLParseError/;
  for (const file of ['cli-main.js', 'cli-launch.js', 'cli-clusters.js', 'cli-jobs.js', 'cli-api.js']) {
    const code = readFileSync(path.join(dist, file), 'utf8');
    assert.doesNotMatch(code, zod, `${file} carries no zod`);
    assert.doesNotMatch(code, yaml, `${file} carries no yaml`);
  }
  assert.match(readFileSync(path.join(dist, 'cli-validation.js'), 'utf8'), zod);
  assert.match(readFileSync(path.join(dist, 'cli-yaml-parse.js'), 'utf8'), yaml);
});

test('the installed skydeck runs commands whose code is in their own bundles', () => {
  const run = (args: string[]) => spawnSync(skydeck, args, { env: cliEnv({ home: server.home, url: server.url }), encoding: 'utf8', timeout: 60_000 });
  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  const status = run(['status']);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /No existing clusters|NAME/);
  const dryrun = run(['launch', path.join(ROOT, 'examples', 'hello.yaml'), '-c', 'packaged', '--dryrun']);
  assert.equal(dryrun.status, 0, dryrun.stderr);
  assert.match(dryrun.stdout + dryrun.stderr, /local/);
});

// Runs the test suites by kind: `node scripts/test.mjs [unit|integration|infra|e2e ...]` (default: all).
// unit and integration are node:test files run through tsx; infra and e2e bring up real daemons first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const suites = {
  unit: () => nodeTests('test/unit'),
  integration: () => nodeTests('test/integration'),
  security: () => nodeTests('test/security'),
  docker: () => script('test/docker/run.sh'),
  infra: () => script('test/infra/run.sh'),
  e2e: () => script('test/e2e/run.sh'),
  dashboard: () => script('test/dashboard/run.sh'),
};

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
}

function nodeTests(dir) {
  const files = testFiles(dir);
  if (files.length === 0) return 0;
  const concurrency = process.env.SKYDECK_TEST_CONCURRENCY ?? '2';
  // A hung test fails after its timeout instead of holding CI to its limit.
  return run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...files]);
}

function script(path) {
  if (!existsSync(path)) return 0;
  return run('bash', [path]);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status ?? 1;
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((k) => !(k in suites));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
const failed = [];
for (const kind of wanted.length > 0 ? wanted : Object.keys(suites)) {
  console.log(`\n=== ${kind} tests ===`);
  if (suites[kind]() !== 0) failed.push(kind);
}
if (failed.length > 0) {
  console.error(`\nfailed suites: ${failed.join(', ')}`);
  process.exit(1);
}

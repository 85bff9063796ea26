import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyEnvs, inlineTask, loadTaskFile } from '../../client/task-file';
import { keyLineFinder, locateIssues } from '../../client/task-lines';
import { ClientError } from '../../client/errors';
import { TaskValidationError } from '../../protocol/task';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-task-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function issuesOf(fn: () => unknown): TaskValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TaskValidationError) return err;
    throw err;
  }
  assert.fail('expected a TaskValidationError');
}

test('workdir and local file_mounts sources are made absolute from the task file folder', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'tasks', 'code'), { recursive: true });
  writeFileSync(join(dir, 'tasks', 'data.txt'), 'x');
  const file = join(dir, 'tasks', 'train.yaml');
  writeFileSync(file, 'workdir: code\nfile_mounts:\n  /data/in.txt: ./data.txt\n  /bucket: s3://my-bucket/path\nrun: echo hi\n');
  const { task } = loadTaskFile(file);
  assert.equal(task.workdir, join(dir, 'tasks', 'code'));
  assert.deepEqual(task.file_mounts, { '/data/in.txt': join(dir, 'tasks', 'data.txt'), '/bucket': 's3://my-bucket/path' });
});

test('a missing workdir or mount source is reported at its line before anything is sent', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'task.yaml');
  writeFileSync(file, 'name: t\nworkdir: ./missing\nfile_mounts:\n  /data/a.csv: nope.csv\nrun: echo\n');
  const err = issuesOf(() => loadTaskFile(file));
  assert.deepEqual(
    err.issues.map((i) => [i.path, i.line]),
    [
      ['workdir', 2],
      ['file_mounts./data/a.csv', 4],
    ],
  );
  assert.match(err.message, new RegExp(`^${file}:2: workdir: .*missing is not a directory`));
});

test('schema errors carry file:line: key: message', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'name: bad\nresources:\n  cpus: lots\nrun: echo\n');
  assert.match(issuesOf(() => loadTaskFile(file)).message, /bad\.yaml:3: resources\.cpus: /);
});

test('an unreadable task file is a plain client error naming the file', () => {
  assert.throws(() => loadTaskFile('/nonexistent/task.yaml'), (err: Error) => err instanceof ClientError && /\/nonexistent\/task\.yaml: no such file/.test(err.message));
});

test('envs: env file first, then --env, and a bare --env KEY takes the value from the environment', (t) => {
  const dir = tempDir(t);
  const envFile = join(dir, 'vars.env');
  writeFileSync(envFile, '# comment\nA=from-file\nB="quoted"\n');
  const source = { task: { envs: { A: null, B: 'default', C: null } } } as const;
  const { task } = applyEnvs({ task: { ...source.task, envs: { ...source.task.envs } } }, { envFile, envArgs: ['A=from-arg', 'C'], environment: { C: 'from-env' } });
  assert.deepEqual(task.envs, { A: 'from-arg', B: 'quoted', C: 'from-env' });
});

test('a required env without a value is reported at the line that declares it', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'task.yaml');
  writeFileSync(file, 'name: t\nenvs:\n  OK: 1\n  TOKEN: null\nrun: echo $TOKEN\n');
  const err = issuesOf(() => applyEnvs(loadTaskFile(file), {}));
  assert.equal(err.message, `${file}:4: envs.TOKEN: required env has no value; pass --env TOKEN=VALUE`);
});

test('--env with a bad name, or a bare name missing from the environment, is refused', () => {
  assert.throws(() => applyEnvs({ task: {} }, { envArgs: ['1BAD=x'] }), TaskValidationError);
  assert.throws(() => applyEnvs({ task: {} }, { envArgs: ['NOT_SET'], environment: {} }), /NOT_SET is not set there/);
});

test('a malformed env file line is reported with its line', (t) => {
  const dir = tempDir(t);
  const envFile = join(dir, 'bad.env');
  writeFileSync(envFile, 'A=1\nthis is wrong\n');
  assert.match(issuesOf(() => applyEnvs({ task: {} }, { envFile })).message, /bad\.env:2: /);
});

test('an inline command becomes the run of an otherwise empty task', () => {
  assert.deepEqual(inlineTask('python train.py --epochs 3').task, { run: 'python train.py --epochs 3' });
});

test('issue paths from the server map to lines, with or without a task. prefix, keys with dots included', () => {
  const text = 'name: t\nresources:\n  cloud: aws\n  cpus: 2\nfile_mounts:\n  /data/x.txt: a\nrun: echo\n';
  const located = locateIssues(
    [
      { path: 'task.resources.cpus', message: 'too many' },
      { path: 'resources.infra', message: 'aws is not enabled' },
      { path: 'file_mounts./data/x.txt', message: 'm' },
      { path: 'envs.MISSING', message: 'm' },
      { path: 'run', message: 'm', line: 99 },
    ],
    text,
  );
  assert.deepEqual(
    located.map((i) => [i.path, i.line]),
    [
      ['resources.cpus', 4],
      ['resources.infra', 3],
      ['file_mounts./data/x.txt', 6],
      ['envs.MISSING', undefined],
      ['run', 99],
    ],
  );
});

test('keyLineFinder falls back to the deepest key present', () => {
  const lineOf = keyLineFinder('resources:\n  cpus: 2\n');
  assert.equal(lineOf('resources.memory'), 1);
  assert.equal(lineOf(''), undefined);
});

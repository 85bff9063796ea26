// The task schema against the corpus in test/fixtures/tasks: every file in valid/ parses (and its parsed form
// parses again to itself, as it does when the server checks what a client sent); every file in invalid/ is
// refused at the key paths and lines its `# expect: PATH @ LINE` comments name.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fillEnvs, parseTaskDocuments, parseTaskYaml, resourceCandidates, TaskValidationError, validateTask, type Task } from '../../protocol/task';

const root = path.join(import.meta.dirname, '..', 'fixtures', 'tasks');
const files = (kind: 'valid' | 'invalid') => readdirSync(path.join(root, kind)).filter((f) => f.endsWith('.yaml')).sort();
const read = (kind: string, file: string) => readFileSync(path.join(root, kind, file), 'utf8');

describe('task schema corpus: valid files', () => {
  for (const file of files('valid')) {
    it(file, () => {
      const chain = parseTaskDocuments(read('valid', file), file);
      assert.ok(chain.tasks.length >= 1);
      for (const task of chain.tasks) assert.deepEqual(validateTask(JSON.parse(JSON.stringify(task))), task, 'the parsed task is valid input and parses to itself');
    });
  }
});

describe('task schema corpus: invalid files', () => {
  for (const file of files('invalid')) {
    it(file, () => {
      const text = read('invalid', file);
      const expected = [...text.matchAll(/^# expect: (\S+) @ (\d+)$/gm)].map((m) => ({ path: m[1] === '(file)' ? '' : m[1]!, line: Number(m[2]) }));
      assert.ok(expected.length > 0, 'the fixture says what it expects');
      let issues: { path: string; line?: number; message: string }[] = [];
      try {
        parseTaskDocuments(text, file);
        assert.fail(`${file} was accepted`);
      } catch (err) {
        if (!(err instanceof TaskValidationError)) throw err;
        issues = err.issues;
      }
      for (const e of expected) {
        assert.ok(
          issues.some((i) => i.path === e.path && i.line === e.line),
          `expected an issue at ${e.path || '(file)'} line ${e.line}; got ${issues.map((i) => `${i.path}@${i.line}: ${i.message}`).join('; ')}`,
        );
      }
      for (const i of issues) assert.doesNotMatch(i.message, /^Invalid input$/, 'every issue says what was expected');
    });
  }
});

function load(file: string): Task {
  return parseTaskYaml(read('valid', file), file);
}

function candidates(file: string) {
  return resourceCandidates(load(file).resources);
}

describe('task schema normalisation', () => {
  it('folds cloud/region/zone into infra, lowercasing the kind', () => {
    assert.equal(load('resources-cloud-region-zone.yaml').resources!.infra, 'aws/us-east-1/us-east-1a');
  });

  it('writes accelerators as NAME:COUNT whatever form the file used', () => {
    assert.equal(load('accelerators-name.yaml').resources!.accelerators, 'V100:1');
    assert.equal(load('accelerators-map.yaml').resources!.accelerators, 'A100:8');
    assert.equal(load('accelerators-fraction.yaml').resources!.accelerators, 'T4:0.5');
    assert.equal(load('gpus-alias.yaml').resources!.accelerators, 'H100:8');
  });

  it('turns an accelerator list into ordered candidates and a set into any-of candidates', () => {
    assert.deepEqual(candidates('accelerators-list.yaml'), { ordered: true, candidates: [{ accelerators: 'A100:8' }, { accelerators: 'A10G:4' }, { accelerators: 'L4:1' }] });
    for (const file of ['accelerators-set.yaml', 'accelerators-set-string.yaml']) {
      const c = candidates(file);
      assert.equal(c.ordered, false);
      assert.deepEqual(c.candidates.map((x) => x.accelerators).sort(), file.includes('string') ? ['A100:1', 'V100:1'] : ['A100:1', 'H100:1']);
    }
    assert.deepEqual(candidates('accelerators-set-counts.yaml').candidates.map((x) => x.accelerators), ['A100:2', 'H100:1']);
  });

  it('gives every any_of candidate the base keys, with its own on top and labels merged', () => {
    assert.deepEqual(candidates('any-of.yaml'), {
      ordered: false,
      candidates: [
        { cpus: '2+', labels: { team: 'ml', pool: 'lab' }, infra: 'ssh', accelerators: 'A100:1' },
        { cpus: '2+', labels: { team: 'ml' }, infra: 'slurm', use_spot: true },
      ],
    });
  });

  it('crosses an accelerator set with any_of, as SkyPilot does', () => {
    assert.deepEqual(
      candidates('any-of-with-set.yaml').candidates.map((c) => `${c.infra} ${c.accelerators}`),
      ['ssh A100:1', 'ssh L4:1', 'local A100:1', 'local L4:1'],
    );
  });

  it('keeps ordered candidates in the order written', () => {
    const c = candidates('ordered.yaml');
    assert.equal(c.ordered, true);
    assert.deepEqual(c.candidates, [
      { memory: '8', infra: 'local' },
      { memory: '8', infra: 'ssh/lab', cpus: '8' },
      { memory: '8', infra: 'slurm/debug', accelerators: 'H100:1' },
    ]);
  });

  it('reads an empty any_of as no candidates list', () => {
    assert.deepEqual(candidates('any-of-empty.yaml'), { ordered: false, candidates: [{}] });
  });

  it('writes ports as a list of ports and ranges', () => {
    assert.deepEqual(load('ports-number.yaml').resources!.ports, ['8080']);
    assert.deepEqual(load('ports-range.yaml').resources!.ports, ['8000-8010']);
    assert.deepEqual(load('ports-list.yaml').resources!.ports, ['8080', '9000-9005', '22']);
    assert.equal(load('ports-null.yaml').resources!.ports, undefined);
  });

  it('reads autostop in each form as minutes and down', () => {
    assert.deepEqual(load('autostop-true.yaml').resources!.autostop, { idle_minutes: 5, down: false });
    assert.equal(load('autostop-false.yaml').resources!.autostop, false);
    assert.deepEqual(load('autostop-minutes.yaml').resources!.autostop, { idle_minutes: 10, down: false });
    assert.deepEqual(load('autostop-duration.yaml').resources!.autostop, { idle_minutes: 120, down: false });
    assert.deepEqual(load('autostop-object.yaml').resources!.autostop, { idle_minutes: 30, down: true, wait_for: 'jobs', hook: './save.sh', hook_timeout: 60 });
  });

  it('reads sizes in GiB', () => {
    const r = load('resources-rest.yaml').resources!;
    assert.equal(r.disk_size, 1024);
    assert.equal(r.ephemeral_storage, 100);
    assert.equal(load('resources-basic.yaml').resources!.memory, '16+');
  });

  it('folds spot_recovery into job_recovery', () => {
    assert.equal(load('spot-recovery.yaml').resources!.job_recovery, 'FAILOVER');
  });

  it('keeps storage mappings, with mode and store in one case', () => {
    const mounts = load('file-mounts.yaml').file_mounts!;
    assert.equal(mounts['/data/config.json'], './config.json');
    assert.deepEqual(mounts['/out'], { name: '${BUCKET}-out', store: 's3', mode: 'MOUNT', persistent: false });
    assert.deepEqual(mounts['/cached'], {
      source: 'r2://bucket/path',
      mode: 'MOUNT_CACHED',
      type: 'MODEL_CHECKPOINT_RO',
      config: { mount_cached: { transfers: 8, vfs_cache_max_size: '10G', vfs_cache_max_age: '1h' } },
    });
  });

  it('reads env values of any scalar type as strings, null as required', () => {
    const task = load('envs-scalars.yaml');
    assert.deepEqual(task.envs, { EPOCHS: '3', LR: '0.001', DEBUG: 'true', MODEL: 'llama', EMPTY: '', TOKEN: null });
    assert.deepEqual(task.secrets, { HF_TOKEN: null, WANDB_KEY: 'abc' });
    assert.deepEqual(task.managed_secrets, ['SHARED']);
  });

  it('moves managed secret references out of secrets', () => {
    const task = load('secrets-list.yaml');
    assert.equal(task.secrets, undefined);
    assert.deepEqual(task.managed_secrets, ['WANDB', { GCP_SA: { mount_path: '/secrets/sa.json' } }, 'HF_TOKEN', 'OPENAI_KEY']);
  });

  it('fills ${VAR} and $VAR in file_mounts and workdir from envs, overrides first', () => {
    const task = load('substitution.yaml');
    const filled = fillEnvs(task, { SIZE: '13' });
    assert.deepEqual(filled.file_mounts, { '/models/llama-13b': 's3://weights/llama-13b' });
    assert.deepEqual(filled.workdir, { url: 'https://example.com/repo.git' });
    assert.deepEqual(fillEnvs(task).file_mounts, { '/models/llama-7b': 's3://weights/llama-7b' });
  });

  it('checks storage settings written as $VAR once they are filled, as SkyPilot does', () => {
    const task = load('storage-env-reference.yaml');
    assert.deepEqual(fillEnvs(task, { MODE: 'copy' }).file_mounts, { '/data': { name: 'my-bucket', store: 's3', mode: 'COPY' } });
    assert.throws(() => fillEnvs(task, { MODE: 'sync' }), (err: unknown) => err instanceof TaskValidationError && err.issues[0]!.path === 'file_mounts./data.mode');
  });

  it('parses a chain of tasks with its name header, and refuses it where one task is expected', () => {
    const chain = parseTaskDocuments(read('valid', 'chain.yaml'));
    assert.equal(chain.name, 'pipeline');
    assert.deepEqual(chain.tasks.map((t) => t.name), ['prep', 'train']);
    assert.equal(parseTaskDocuments(read('valid', 'chain-no-header.yaml')).tasks.length, 2);
    assert.throws(() => parseTaskYaml(read('valid', 'chain.yaml'), 'chain.yaml'), /chain of 2 tasks.*does not run pipelines/);
  });

  it('suggests the key a typo meant, among the keys known at that place', () => {
    try {
      parseTaskYaml(read('invalid', 'typo-any-of.yaml'));
      assert.fail('accepted');
    } catch (err) {
      assert.match((err as Error).message, /resources\.any_of\.1\.cpuz: unknown key; did you mean cpus\?/);
    }
  });
});

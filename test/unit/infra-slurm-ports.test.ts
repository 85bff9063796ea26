// Ports on Slurm: the comment each SkyDeck job carries its cluster's ports in, which nodes hold which
// of a new job's ports, the refusal that names them, and the sbatch / slurmrestd options that keep a
// job off those nodes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sbatchArgs } from '../../server/infra/slurm/slurm-cli';
import { heldPorts, portsComment, portsOfComment, portsRefusal } from '../../server/infra/slurm/slurm-ports';
import { restSubmission } from '../../server/infra/slurm/slurm-rest';
import type { SlurmJobRequest } from '../../server/infra/slurm/slurm-transport';

test('a cluster\'s ports ride in its jobs\' Slurm comment and are read back; other comments name none', () => {
  assert.equal(portsComment([8080, 8081]), 'skydeck-ports=8080,8081');
  assert.equal(portsComment([]), undefined);
  assert.equal(portsComment(undefined), undefined);
  assert.deepEqual(portsOfComment('skydeck-ports=8080,8081'), [8080, 8081]);
  assert.deepEqual(portsOfComment('skydeck-ports=80,x,70000,0'), [80]);
  assert.deepEqual(portsOfComment('nightly build'), []);
  assert.deepEqual(portsOfComment(''), []);
});

test('the nodes holding a new job\'s ports: only SkyDeck jobs of other clusters, only the asked ports', () => {
  const allocations = [
    { name: 'skydeck-web', nodes: ['n1'], comment: 'skydeck-ports=8080,9000' },
    { name: 'skydeck-api', nodes: ['n2', 'n3'], comment: 'skydeck-ports=8081' },
    { name: 'skydeck-me', nodes: ['n4'], comment: 'skydeck-ports=8080' },
    // Not SkyDeck's: its comment is only a comment.
    { name: 'someone-else', nodes: ['n5'], comment: 'skydeck-ports=8080' },
    { name: 'skydeck-quiet', nodes: ['n6'], comment: '' },
  ];
  const held = heldPorts(allocations, [8080, 8081], 'me');
  assert.deepEqual([...held.keys()].sort(), ['n1', 'n2', 'n3']);
  assert.deepEqual(held.get('n1'), [{ node: 'n1', port: 8080, cluster: 'web' }]);
  assert.deepEqual(held.get('n3'), [{ node: 'n3', port: 8081, cluster: 'api' }]);
  assert.deepEqual([...heldPorts(allocations, [8080]).keys()].sort(), ['n1', 'n4']);
  assert.equal(heldPorts(allocations, []).size, 0);
  assert.equal(
    portsRefusal('debug', 2, 0, 1, [...held.get('n1')!, ...held.get('n2')!]),
    'ports: partition debug has 0 of its 2 usable nodes without them in use, 1 asked; 8080 is held by cluster web on n1; 8081 is held by cluster api on n2',
  );
});

test('a job is kept off the holding nodes and carries its ports, through sbatch and slurmrestd alike', () => {
  const job: SlurmJobRequest = { scriptFile: '/s/j/batch.sh', script: '#!/bin/bash\n', name: 'skydeck-c', partition: 'debug', nodes: 1, output: '/s/j/batch.log', chdir: '/s/j', exclude: ['n1', 'n3'], comment: 'skydeck-ports=8080' };
  const args = sbatchArgs(job);
  assert.ok(args.includes('--exclude=n1,n3'), args.join(' '));
  assert.ok(args.includes('--comment=skydeck-ports=8080'), args.join(' '));
  assert.equal(args.at(-1), '/s/j/batch.sh');
  const { job: props } = restSubmission(job);
  assert.equal(props.exclude_nodes, 'n1,n3');
  assert.equal(props.comment, 'skydeck-ports=8080');
  const none = sbatchArgs({ ...job, exclude: [], comment: undefined });
  assert.equal(none.some((a) => a.startsWith('--exclude') || a.startsWith('--comment')), false);
  assert.equal('exclude_nodes' in restSubmission({ ...job, exclude: [] }).job, false);
});

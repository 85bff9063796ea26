// Ports on Slurm: the comment each SkyDeck job carries its cluster's ports in, which nodes hold which
// of a new job's ports (running jobs where they run, pending ones where they are pinned), the nodes a
// new job is pinned to or the refusal that names the holders, which of two held jobs on one node goes
// ahead, and the sbatch / slurmrestd options and queue listings all that rests on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQueue, QUEUE_FORMAT, sbatchArgs, type SlurmNode } from '../../server/infra/slurm/slurm-cli';
import { choosePortNodes, clashes, heldPorts, isHeld, portFit, portsComment, portsOfComment, portsRefusal } from '../../server/infra/slurm/slurm-ports';
import { restQueuedJob, restSubmission } from '../../server/infra/slurm/slurm-rest';
import type { SlurmJobRequest, SlurmQueuedJob } from '../../server/infra/slurm/slurm-transport';

test('a cluster\'s ports ride in its jobs\' Slurm comment and are read back; other comments name none', () => {
  assert.equal(portsComment([8080, 8081]), 'skydeck-ports=8080,8081');
  assert.equal(portsComment([]), undefined);
  assert.equal(portsComment(undefined), undefined);
  assert.deepEqual(portsOfComment('skydeck-ports=8080,8081'), [8080, 8081]);
  assert.deepEqual(portsOfComment('skydeck-ports=80,x,70000,0'), [80]);
  assert.deepEqual(portsOfComment('nightly build'), []);
  assert.deepEqual(portsOfComment(''), []);
});

/** A job in Slurm's queue: running on `nodes`, or pending (pinned to `requiredNodes`). */
const queued = (id: string, name: string, comment: string, nodes: string[], requiredNodes: string[] = [], reason = 'None'): SlurmQueuedJob => ({
  id,
  name,
  comment,
  nodes,
  requiredNodes,
  state: nodes.length ? 'RUNNING' : 'PENDING',
  reason,
});
const node = (name: string, state = 'idle', partition = 'debug'): SlurmNode => ({ name, partition, isDefault: true, cpus: 4, memoryGiB: 8, state });

test("the nodes holding a new job's ports: SkyDeck jobs of other clusters, running where they run, pending where they are pinned", () => {
  const queue = [
    queued('1', 'skydeck-web', 'skydeck-ports=8080,9000', ['n1']),
    queued('2', 'skydeck-api', 'skydeck-ports=8081', ['n2', 'n3']),
    queued('3', 'skydeck-me', 'skydeck-ports=8080', ['n4']),
    // Pending: it holds the nodes it is pinned to, before it has any.
    queued('4', 'skydeck-soon', 'skydeck-ports=8080', [], ['n7'], 'Resources'),
    // Pending without a pin (not placed by SkyDeck's rules): it holds nothing yet.
    queued('5', 'skydeck-loose', 'skydeck-ports=8080', []),
    // Not SkyDeck's: its comment is only a comment.
    queued('6', 'someone-else', 'skydeck-ports=8080', ['n5']),
    queued('7', 'skydeck-quiet', '', ['n6']),
  ];
  const held = heldPorts(queue, [8080, 8081], 'me');
  assert.deepEqual([...held.keys()].sort(), ['n1', 'n2', 'n3', 'n7']);
  assert.deepEqual(held.get('n1'), [{ node: 'n1', port: 8080, cluster: 'web' }]);
  assert.deepEqual(held.get('n3'), [{ node: 'n3', port: 8081, cluster: 'api' }]);
  assert.deepEqual(held.get('n7'), [{ node: 'n7', port: 8080, cluster: 'soon', pendingJob: '4' }]);
  assert.deepEqual([...heldPorts(queue, [8080]).keys()].sort(), ['n1', 'n4', 'n7']);
  assert.equal(heldPorts(queue, []).size, 0);
  assert.equal(
    portsRefusal('debug', 2, 0, 1, [...held.get('n1')!, ...held.get('n7')!]),
    'ports: partition debug has 0 of its 2 usable nodes without them in use, 1 asked; 8080 is held by cluster web on n1; 8080 is held by cluster soon on n7 (pending job 4)',
  );
});

test('a job is pinned to nodes free of its ports, idle ones first; too few is a refusal naming the holders', () => {
  const fit = [node('n1', 'mix'), node('n2', 'alloc'), node('n3', 'idle'), node('n4', 'idle')];
  const held = heldPorts([queued('1', 'skydeck-web', 'skydeck-ports=8080', [], ['n3'])], [8080]);
  const one = choosePortNodes(fit, held, 1, 'debug');
  assert.deepEqual('nodes' in one && one.nodes.map((n) => n.name), ['n4']);
  const three = choosePortNodes(fit, held, 3, 'debug');
  assert.deepEqual('nodes' in three && three.nodes.map((n) => n.name), ['n4', 'n1', 'n2']);
  const four = choosePortNodes(fit, held, 4, 'debug');
  assert.deepEqual(four, { refusal: 'ports: partition debug has 3 of its 4 usable nodes without them in use, 4 asked; 8080 is held by cluster web on n3 (pending job 1)' });
  assert.deepEqual(
    portFit([node('n1'), node('n2', 'drain'), node('n3', 'idle', 'gpu'), node('n4')], { partition: 'debug', fits: (n) => n.name !== 'n4' }).map((n) => n.name),
    ['n1'],
  );
});

test('a held job yields to an earlier job of another cluster on its nodes with its port, or to one already released; a later held one yields to it', () => {
  const ask = { cluster: 'me', ports: [8080] };
  const held = (id: string, name: string, nodes: string[]) => queued(id, name, 'skydeck-ports=8080', [], nodes, 'JobHeldUser');
  // Two servers chose n1 at once: job 10 (earlier) goes ahead, 11 yields.
  const race = [held('10', 'skydeck-me', ['n1']), held('11', 'skydeck-you', ['n1'])];
  assert.deepEqual(clashes(race, '10', ['n1'], ask), []);
  assert.deepEqual(clashes(race, '11', ['n1'], { cluster: 'you', ports: [8080] }), [{ node: 'n1', port: 8080, cluster: 'me', pendingJob: '10' }]);
  // A later job past its check (released, or running there) wins too: it was placed without seeing this one.
  assert.equal(clashes([held('10', 'skydeck-me', ['n1']), queued('12', 'skydeck-you', 'skydeck-ports=8080', ['n1'])], '10', ['n1'], ask).length, 1);
  // Other nodes, other ports, the cluster's own jobs: no clash.
  const apart = [queued('5', 'skydeck-you', 'skydeck-ports=8080', ['n2']), queued('6', 'skydeck-api', 'skydeck-ports=9000', ['n1']), queued('7', 'skydeck-me', 'skydeck-ports=8080', ['n1'])];
  assert.deepEqual(clashes([...apart, held('10', 'skydeck-me', ['n1'])], '10', ['n1'], ask), []);
  assert.equal(isHeld(held('1', 'skydeck-me', ['n1'])), true);
  assert.equal(isHeld(queued('1', 'skydeck-me', '', [], ['n1'], 'Resources')), false);
});

test('a job is pinned, submitted held and carries its ports, through sbatch and slurmrestd alike', () => {
  const job: SlurmJobRequest = { scriptFile: '/s/j/batch.sh', script: '#!/bin/bash\n', name: 'skydeck-c', partition: 'debug', nodes: 2, output: '/s/j/batch.log', chdir: '/s/j', nodelist: ['n1', 'n3'], hold: true, comment: 'skydeck-ports=8080' };
  const args = sbatchArgs(job);
  assert.ok(args.includes('--nodelist=n1,n3'), args.join(' '));
  assert.ok(args.includes('--hold'), args.join(' '));
  assert.ok(args.includes('--comment=skydeck-ports=8080'), args.join(' '));
  assert.equal(args.at(-1), '/s/j/batch.sh');
  const { job: props } = restSubmission(job);
  assert.equal(props.nodelist, 'n1,n3');
  assert.equal(props.hold, true);
  assert.equal(props.comment, 'skydeck-ports=8080');
  const none = sbatchArgs({ ...job, nodelist: [], hold: false, comment: undefined });
  assert.equal(none.some((a) => a.startsWith('--nodelist') || a === '--hold' || a.startsWith('--comment')), false);
  const plain = restSubmission({ ...job, nodelist: undefined, hold: undefined }).job;
  assert.equal('nodelist' in plain || 'hold' in plain, false);
});

test("the queue as squeue and slurmrestd list it: a pending job's required nodes, a running job's allocation", () => {
  const sep = '\x1f';
  const out = [['41', 'PENDING', 'JobHeldUser', '', 'n[1-2]', 'skydeck-ports=8080', 'skydeck-web'], ['42', 'RUNNING', 'None', 'n3', '', '(null)', 'a|b'], []].map((f) => f.join(sep)).join('\n');
  assert.equal(QUEUE_FORMAT.split(sep).length, 7);
  assert.deepEqual(parseQueue(out), [
    { id: '41', state: 'PENDING', reason: 'JobHeldUser', nodes: [], requiredNodes: ['n1', 'n2'], comment: 'skydeck-ports=8080', name: 'skydeck-web' },
    { id: '42', state: 'RUNNING', reason: 'None', nodes: ['n3'], requiredNodes: [], comment: '', name: 'a|b' },
  ]);
  assert.deepEqual(restQueuedJob({ job_id: 43, name: 'skydeck-api', user_name: 'root', job_state: 'PENDING', state_reason: 'Resources', nodes: '', required_nodes: 'n2', comment: 'skydeck-ports=9000' }), {
    id: '43',
    name: 'skydeck-api',
    state: 'PENDING',
    reason: 'Resources',
    nodes: [],
    requiredNodes: ['n2'],
    comment: 'skydeck-ports=9000',
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkyDeckError } from '../../server/errors';
import { httpStatus } from '../../server/http/errors';
import type { InfraBackend, Placement, Refusal, ResourceAsk } from '../../server/infra/backend';
import { askFromTask, choosePlacement, formatConsidered, shortfall } from '../../server/infra/optimizer';

/** A backend that only answers candidates(): enough for the optimizer. */
function offering(kind: string, placements: Placement[], refusals: Refusal[] = []): InfraBackend {
  return { kind, candidates: async () => ({ placements, refusals }) } as unknown as InfraBackend;
}

const ssh: Placement = { infra: 'ssh/lab', numNodes: 2, cpus: 8, memoryGiB: 31.4, cost: 1 };
const slurm: Placement = { infra: 'slurm/debug', numNodes: 2, cpus: 4, memoryGiB: 2, accelerators: { name: 'A100', count: 2 }, cost: 2 };

test('the cheapest placement is chosen and every other one is shown in the table', async () => {
  const choice = await choosePlacement([offering('slurm', [slurm]), offering('ssh', [ssh])], { numNodes: 2 });
  assert.equal(choice.chosen, ssh);
  assert.equal(
    formatConsidered(choice),
    ['Considered resources:', 'INFRA        NODES  vCPUs  Mem(GB)  GPUS    CHOSEN', 'ssh/lab      2      8      31.4     -       ✔', 'slurm/debug  2      4      2        A100:2'].join('\n'),
  );
});

test('at the same cost the tightest fit wins', async () => {
  const big: Placement = { ...ssh, infra: 'ssh/big', cpus: 64 };
  const small: Placement = { ...ssh, infra: 'ssh/small', cpus: 4 };
  const choice = await choosePlacement([offering('ssh', [big, small])], { numNodes: 2 });
  assert.equal(choice.chosen, small);
});

test('infra named by the task limits the choice to that backend', async () => {
  const choice = await choosePlacement([offering('ssh', [ssh]), offering('slurm', [slurm])], { numNodes: 2, infra: 'slurm' });
  assert.equal(choice.chosen, slurm);
  assert.deepEqual(choice.considered, [slurm]);
});

test('a task nothing can hold is refused with the reason of every infra', async () => {
  const refusals = [
    { infra: 'ssh/lab', reason: 'asked for 4 nodes; pool lab has 3 free hosts that fit' },
    { infra: 'slurm/debug', reason: 'asked for 4 nodes; partition debug has 2 nodes that fit' },
  ];
  await assert.rejects(
    choosePlacement([offering('ssh', [], [refusals[0]!]), offering('slurm', [], [refusals[1]!])], { numNodes: 4 }),
    (err: Error) => err instanceof SkyDeckError && err.code === 'resources_unavailable' && httpStatus(err) === 400 && err.message.includes('ssh/lab: asked for 4 nodes') && err.message.includes('slurm/debug: asked for 4 nodes'),
  );
});

test('an infra kind the server does not run is refused with how to enable it', async () => {
  await assert.rejects(choosePlacement([offering('local', [])], { numNodes: 1, infra: 'ssh/lab' }), /infra 'ssh\/lab' is not enabled.*ssh_node_pools\.yaml/s);
  await assert.rejects(choosePlacement([offering('local', [])], { numNodes: 1, infra: 'slurm' }), /add a `slurm:` section to SKYDECK_HOME\/config.yaml/);
});

test('a node falls short on CPUs, memory, accelerator type or count', () => {
  const node = { cpus: 4, memoryGiB: 16, accelerators: { name: 'A100', count: 2 } };
  const ask = (a: Partial<ResourceAsk>): ResourceAsk => ({ numNodes: 1, ...a });
  assert.equal(shortfall(ask({ cpus: { count: 4, orMore: true } }), node), undefined);
  assert.equal(shortfall(ask({ cpus: { count: 8, orMore: false } }), node), '4 CPUs, 8 asked');
  assert.equal(shortfall(ask({ memoryGiB: { count: 32, orMore: true } }), node), '16 GiB memory, 32 asked');
  assert.equal(shortfall(ask({ accelerators: { name: 'a100', count: 2 } }), node), undefined);
  assert.equal(shortfall(ask({ accelerators: { name: 'H100', count: 1 } }), node), 'A100:2, H100 asked');
  assert.equal(shortfall(ask({ accelerators: { name: 'A100', count: 8 } }), node), 'A100:2, 8 asked');
  assert.equal(shortfall(ask({ accelerators: { name: 'A100', count: 1 } }), { cpus: 1, memoryGiB: 1 }), 'no accelerators, A100:1 asked');
});

test('a task file becomes an ask', () => {
  assert.deepEqual(askFromTask({ num_nodes: 2, resources: { infra: 'ssh/lab', cpus: '4+', accelerators: 'A100:2' } }), {
    infra: 'ssh/lab',
    numNodes: 2,
    cpus: { count: 4, orMore: true },
    memoryGiB: undefined,
    accelerators: { name: 'A100', count: 2 },
  });
});

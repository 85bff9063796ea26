import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkyDeckError } from '../../server/errors';
import { httpStatus } from '../../server/http/errors';
import { unsupported, type BackendCapabilities, type InfraBackend, type InfraKind, type Placement, type Refusal, type ResourceAsk } from '../../server/infra/backend';
import { shortfall } from '../../server/infra/fit';
import { validateTask } from '../../protocol/task';
import { askFromTask, choosePlacement, formatConsidered, planFromTask, type ResourcePlan } from '../../server/infra/optimizer';
import { InfraBackends } from '../../server/infra/registry';

const ALL: BackendCapabilities<unknown> = {
  stopStart: { stop: async () => undefined, start: async () => undefined },
  spot: true,
  instanceTypes: true,
  regions: true,
  zones: true,
  diskTiers: true,
  networkTiers: true,
  ports: true,
  containerImages: true,
};

/** A backend that answers configured() and candidates(): enough for the optimizer. */
function offering(kind: InfraKind, placements: Placement[] | ((ask: ResourceAsk) => Placement[]), refusals: Refusal[] = [], caps: Partial<BackendCapabilities<unknown>> = {}, on = true): InfraBackend {
  return {
    kind,
    capabilities: { ...ALL, ...caps },
    configured: () => (on ? { enabled: true } : { enabled: false, reason: `${kind} is off`, hint: kind === 'ssh' ? 'define node pools in SKYDECK_HOME/ssh_node_pools.yaml' : 'add a `slurm:` section to SKYDECK_HOME/config.yaml' }),
    candidates: async (ask: ResourceAsk) => ({ placements: typeof placements === 'function' ? placements(ask) : placements, refusals }),
  } as unknown as InfraBackend;
}

const infra = (...backends: InfraBackend[]) => new InfraBackends(backends);
const one = (ask: ResourceAsk): ResourcePlan => ({ candidates: [ask], ordered: false });

const ssh: Placement = { infra: 'ssh/lab', numNodes: 2, cpus: 8, memoryGiB: 31.4, cost: 1 };
const slurm: Placement = { infra: 'slurm/debug', numNodes: 2, cpus: 4, memoryGiB: 2, accelerators: { name: 'A100', count: 2 }, cost: 2 };

test('the cheapest placement is chosen and every other one is shown in the table', async () => {
  const choice = await choosePlacement(infra(offering('slurm', [slurm]), offering('ssh', [ssh])), one({ numNodes: 2 }));
  assert.equal(choice.chosen.infra, 'ssh/lab');
  assert.equal(
    formatConsidered(choice),
    ['Considered resources:', 'INFRA        NODES  vCPUs  Mem(GB)  GPUS    CHOSEN', 'ssh/lab      2      8      31.4     -       ✔', 'slurm/debug  2      4      2        A100:2'].join('\n'),
  );
});

test('at the same cost the tightest fit wins', async () => {
  const big: Placement = { ...ssh, infra: 'ssh/big', cpus: 64 };
  const small: Placement = { ...ssh, infra: 'ssh/small', cpus: 4 };
  const choice = await choosePlacement(infra(offering('ssh', [big, small])), one({ numNodes: 2 }));
  assert.equal(choice.chosen.infra, 'ssh/small');
});

test('infra named by the task limits the choice to that backend', async () => {
  const choice = await choosePlacement(infra(offering('ssh', [ssh]), offering('slurm', [slurm])), one({ numNodes: 2, infra: 'slurm' }));
  assert.equal(choice.chosen.infra, 'slurm/debug');
  assert.deepEqual(
    choice.considered.map((p) => p.infra),
    ['slurm/debug'],
  );
});

test('a task nothing can hold is refused with the reason of every infra', async () => {
  const refusals = [
    { infra: 'ssh/lab', reason: 'asked for 4 nodes; pool lab has 3 free hosts that fit' },
    { infra: 'slurm/debug', reason: 'asked for 4 nodes; partition debug has 2 nodes that fit' },
  ];
  await assert.rejects(
    choosePlacement(infra(offering('ssh', [], [refusals[0]!]), offering('slurm', [], [refusals[1]!])), one({ numNodes: 4 })),
    (err: Error) => err instanceof SkyDeckError && err.code === 'resources_unavailable' && httpStatus(err) === 400 && err.message.includes('ssh/lab: asked for 4 nodes') && err.message.includes('slurm/debug: asked for 4 nodes'),
  );
});

test('an infra kind the server does not run is refused with how to enable it, and an unknown kind names the known ones', async () => {
  const off = infra(offering('local', []), offering('ssh', [], [], {}, false), offering('slurm', [], [], {}, false));
  await assert.rejects(choosePlacement(off, one({ numNodes: 1, infra: 'ssh/lab' })), /infra 'ssh\/lab' is not enabled on this server \(enabled: local\): ssh is off; define node pools in SKYDECK_HOME\/ssh_node_pools\.yaml/);
  await assert.rejects(choosePlacement(off, one({ numNodes: 1, infra: 'slurm' })), /add a `slurm:` section to SKYDECK_HOME\/config.yaml/);
  await assert.rejects(choosePlacement(off, one({ numNodes: 1, infra: 'aws' })), /infra 'aws' is not enabled on this server \(enabled: local\): SkyDeck runs tasks on local, ssh, slurm/);
});

test('a key the backend cannot honour turns its placement into a refusal naming the key and the reason', async () => {
  const local: Placement = { infra: 'local', numNodes: 1, cpus: 2, memoryGiB: 4, cost: 0 };
  const backends = infra(offering('local', [local], [], { spot: unsupported('no spot capacity on this machine') }), offering('ssh', [{ ...ssh, numNodes: 1 }]));
  const choice = await choosePlacement(backends, one({ numNodes: 1, useSpot: true }));
  assert.equal(choice.chosen.infra, 'ssh/lab');
  assert.deepEqual(choice.refusals, [{ infra: 'local', candidate: 0, key: 'use_spot', reason: 'use_spot: no spot capacity on this machine' }]);
  assert.match(formatConsidered(choice), /\nNot possible:\n {2}local: use_spot: no spot capacity on this machine$/);
  await assert.rejects(
    choosePlacement(infra(offering('local', [local], [], { stopStart: unsupported('cannot stop') })), one({ numNodes: 1, autostop: { idleMinutes: 5, down: false } })),
    /local: autostop: cannot stop; autostop with down: true \(or --down\) tears it down instead/,
  );
  const down = await choosePlacement(infra(offering('local', [local], [], { stopStart: unsupported('cannot stop') })), one({ numNodes: 1, autostop: { idleMinutes: 5, down: true } }));
  assert.equal(down.chosen.infra, 'local');
});

test('ordered candidates are taken in order, any_of by cost; the table has a row per candidate and infra', async () => {
  const byAccelerator = (ask: ResourceAsk): Placement[] =>
    ask.accelerators?.name === 'A100' ? [slurm] : ask.accelerators?.name === 'V100' ? [{ ...ssh, accelerators: { name: 'V100', count: 1 } }] : [];
  const candidates: ResourceAsk[] = [
    { numNodes: 2, accelerators: { name: 'A100', count: 2 } },
    { numNodes: 2, accelerators: { name: 'V100', count: 1 } },
  ];
  const backends = infra(offering('ssh', byAccelerator), offering('slurm', byAccelerator));
  const ordered = await choosePlacement(backends, { candidates, ordered: true });
  assert.equal(ordered.chosen.infra, 'slurm/debug', 'the first candidate wins although it costs more');
  const anyOf = await choosePlacement(backends, { candidates, ordered: false });
  assert.equal(anyOf.chosen.infra, 'ssh/lab', 'the cheapest candidate wins');
  const table = formatConsidered(anyOf).split('\n');
  assert.match(table[1]!, /^CANDIDATE\s+INFRA/);
  assert.equal(table.filter((l) => /A100:2|V100:1/.test(l)).length, 4);
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

test('a task file becomes an ask per resources candidate, with every key the optimizer judges', () => {
  const task = validateTask({
    num_nodes: 2,
    resources: { infra: 'ssh/lab', cpus: '4+', accelerators: 'A100:2', disk_size: 100, use_spot: true, ports: [8080, '9000-9002'], image_id: 'docker:img', autostop: { idle_minutes: 10, down: true } },
  });
  const ask = askFromTask(task);
  assert.equal(ask.infra, 'ssh/lab');
  assert.equal(ask.numNodes, 2);
  assert.deepEqual(ask.cpus, { count: 4, orMore: true });
  assert.deepEqual(ask.accelerators, { name: 'A100', count: 2 });
  assert.equal(ask.diskSizeGB, 100);
  assert.equal(ask.useSpot, true);
  assert.deepEqual(ask.ports, [8080, 9000, 9001, 9002]);
  assert.equal(ask.imageId, 'docker:img');
  assert.deepEqual(ask.autostop, { idleMinutes: 10, down: true });
  const regional = askFromTask(validateTask({ resources: { infra: '*/us-east-1/us-east-1a' } }));
  assert.equal(regional.infra, undefined);
  assert.equal(regional.region, 'us-east-1');
  assert.equal(regional.zone, 'us-east-1a');
  const plan = planFromTask(validateTask({ resources: { accelerators: ['V100', 'A100:2'] } }));
  assert.equal(plan.ordered, true);
  assert.deepEqual(
    plan.candidates.map((c) => c.accelerators),
    [
      { name: 'V100', count: 1 },
      { name: 'A100', count: 2 },
    ],
  );
  assert.equal(planFromTask(validateTask({ resources: { accelerators: { V100: 1, A100: 1 } } })).ordered, false);
});

test('a machine image is refused on every infra naming the key; a container image is not', async () => {
  const local: Placement = { infra: 'local', numNodes: 1, cpus: 2, memoryGiB: 4, cost: 0 };
  await assert.rejects(choosePlacement(infra(offering('local', [local])), one({ numNodes: 1, imageId: 'ami-0868a20f5a3bf9702' })), /local: image_id ami-0868a20f5a3bf9702: local infra runs container images only/);
  assert.equal((await choosePlacement(infra(offering('local', [local])), one({ numNodes: 1, imageId: 'docker:ubuntu' }))).chosen.infra, 'local');
});

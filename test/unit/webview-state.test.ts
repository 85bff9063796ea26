// The panels' saved webview states are read back by keeping only what fits: a state from an older page
// or a corrupt one must give a usable page, never throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchFormState, requestDetailsState } from '../../protocol/webview-state';

const EMPTY = { form: {}, touched: [], showAll: false, opening: 0, serverIssues: [] };

test('a state the page saved comes back whole', () => {
  const saved = {
    form: { taskFile: 'file:///ws/a.yaml', clusterName: 'dev', infra: '', cpus: '4+', memory: '', accelerators: 'A100:1', numNodes: '2', envs: 'A=1\nB=2' },
    touched: ['clusterName', 'cpus'],
    showAll: true,
    opening: 3,
    result: { ok: false, text: 'Not launched: fix the problems above.' },
    serverIssues: [{ field: 'infra', message: "resources.infra: infra 'slurm' is not enabled" }],
  };
  assert.deepEqual(launchFormState(structuredClone(saved)), saved);
});

test('no state, or one that is not an object, gives an empty form', () => {
  for (const saved of [undefined, null, 'text', 42, [], [{ form: {} }]]) assert.deepEqual(launchFormState(saved), EMPTY);
});

test('what does not fit this version is dropped, the rest kept', () => {
  const state = launchFormState({
    form: { clusterName: 'dev', cpus: 4, gpus: 'A100', envs: 'x'.repeat(200_000), taskFile: null },
    touched: ['cpus', 'cpus', 'nope', 7],
    showAll: 'yes',
    opening: -1,
    result: { ok: 'true', text: 'Submitted' },
    serverIssues: [{ field: 'infra', message: 'off' }, { field: 'bogus', message: 'x' }, { field: '', message: 3 }, 'text', { field: '', message: 'general', extra: 1 }],
    version: 99,
  });
  assert.deepEqual(state, {
    form: { clusterName: 'dev' },
    touched: ['cpus'],
    showAll: false,
    opening: 0,
    serverIssues: [
      { field: 'infra', message: 'off' },
      { field: '', message: 'general' },
    ],
  });
});

test("the Request details page gets its search and the reader's place back, and ignores what does not fit", () => {
  assert.deepEqual(requestDetailsState({ search: 'error', following: false, topLine: 1490 }), { search: 'error', following: false, topLine: 1490 });
  assert.deepEqual(requestDetailsState({ search: 'error', following: true, topLine: 1490 }), { search: 'error', following: true });
  for (const saved of [undefined, null, 'x', [1], { search: 7, following: 'no', topLine: -3 }, { search: 'x'.repeat(5000), topLine: 1.5, following: false }]) {
    const state = requestDetailsState(saved);
    assert.equal(state.topLine, undefined);
    assert.ok(state.search === '');
  }
});

test('a Request details state names its request only with an id of the right shape: else the panel is not restored', () => {
  const id = '0f9a1c2e-5b7d-4e21-9c3a-1d2e3f4a5b6c';
  assert.equal(requestDetailsState({ requestId: id, search: 'tick' }).requestId, id);
  for (const requestId of [undefined, '', 'REQ', '../../etc/passwd', 'abc/def', 42, 'a'.repeat(37), { id }]) {
    assert.equal(requestDetailsState({ requestId, search: 'tick' }).requestId, undefined, String(requestId));
  }
  // The rest of the state still comes back without it.
  assert.equal(requestDetailsState({ requestId: 'nope!', search: 'tick' }).search, 'tick');
});

// The panels' saved webview states are read back by keeping only what fits: a state from an older page
// or a corrupt one must give a usable page, never throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchFormState } from '../../webview/launch-state';
import { requestDetailsState } from '../../webview/request-state';

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

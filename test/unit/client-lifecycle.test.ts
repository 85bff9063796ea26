// The lifecycle building blocks, the one Event type and the one debouncer the client and the extension share.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Debouncer } from '../../client/debouncer';
import { Emitter, once } from '../../client/event';
import { DisposableStore, MutableDisposable, toDisposable } from '../../client/lifecycle';

describe('lifecycle', () => {
  it('a store disposes what it holds last-added first, once, and disposes late additions at once', () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => order.push('a')));
    store.add(toDisposable(() => order.push('b')));
    store.add({ dispose: () => { throw new Error('one failing dispose'); } });
    store.add(toDisposable(() => order.push('c')));
    store.dispose();
    store.dispose();
    assert.deepEqual(order, ['c', 'b', 'a']);
    store.add(toDisposable(() => order.push('late')));
    assert.deepEqual(order, ['c', 'b', 'a', 'late']);
  });

  it('a mutable disposable disposes the old value when a new one is set, and the last one with itself', () => {
    const disposed: number[] = [];
    const slot = new MutableDisposable<{ n: number; dispose(): void }>();
    const value = (n: number) => ({ n, dispose: () => disposed.push(n) });
    slot.value = value(1);
    slot.value = value(2);
    assert.deepEqual(disposed, [1]);
    assert.equal(slot.value?.n, 2);
    slot.dispose();
    assert.deepEqual(disposed, [1, 2]);
    slot.value = value(3);
    assert.deepEqual(disposed, [1, 2, 3]);
    assert.equal(slot.value, undefined);
  });
});

describe('Emitter', () => {
  it('delivers to each subscription until it is disposed; the same listener twice is two subscriptions', () => {
    const emitter = new Emitter<number>();
    const seen: number[] = [];
    const listener = (n: number) => seen.push(n);
    const first = emitter.event(listener);
    emitter.event(listener);
    emitter.fire(1);
    first.dispose();
    emitter.fire(2);
    assert.deepEqual(seen, [1, 1, 2]);
    emitter.dispose();
    emitter.fire(3);
    assert.deepEqual(seen, [1, 1, 2]);
  });

  it('once delivers the first value only', () => {
    const emitter = new Emitter<string>();
    const seen: string[] = [];
    once(emitter.event)((v) => seen.push(v));
    emitter.fire('a');
    emitter.fire('b');
    assert.deepEqual(seen, ['a']);
    assert.equal(emitter.hasListeners, false);
  });
});

describe('Debouncer', () => {
  // On a mocked clock: a loaded machine can sleep past the delay in a real 10 ms sleep.
  it('delivers a burst together, after the delay from its first value', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const batches: number[][] = [];
    const d = new Debouncer<number>(30, (v) => batches.push(v));
    d.add(1);
    d.add(2);
    t.mock.timers.tick(10);
    d.add(3);
    t.mock.timers.tick(19);
    assert.deepEqual(batches, [], 'nothing before the delay from the first value');
    t.mock.timers.tick(1);
    assert.deepEqual(batches, [[1, 2, 3]]);
    d.add(4);
    d.flush();
    assert.deepEqual(batches, [[1, 2, 3], [4]]);
    d.add(5);
    d.dispose();
    t.mock.timers.tick(40);
    assert.deepEqual(batches, [[1, 2, 3], [4]]);
  });
});

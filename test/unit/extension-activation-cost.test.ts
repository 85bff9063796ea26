// Activation stays cheap: what the extension loads eagerly must not reach the heavy libraries, which
// only modules behind import() may use (they load on the first connection, command or panel).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { build, type Metafile } from 'esbuild';

const root = join(import.meta.dirname, '..', '..');

test('the static import graph of extension.ts reaches neither zod, yaml nor ws', async () => {
  const result = await build({
    entryPoints: [join(root, 'extension', 'extension.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const inputs: Metafile['inputs'] = result.metafile.inputs;
  const eager = new Set<string>();
  const queue = ['extension/extension.ts'];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (eager.has(file)) continue;
    eager.add(file);
    for (const edge of inputs[file]?.imports ?? []) if (edge.kind !== 'dynamic-import' && !edge.external) queue.push(edge.path);
  }
  const heavy = [...eager].filter((f) => /node_modules\/(zod|yaml|ws)\//.test(f));
  assert.deepEqual(heavy, [], `loaded at activation: ${heavy.slice(0, 5).join(', ')}`);
  assert.ok([...eager].some((f) => f.endsWith('connection/open.ts')) === false, 'connection/open.ts is loaded lazily');
});

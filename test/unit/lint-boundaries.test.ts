// The layering lint rule (scripts/eslint/layering.mjs) fails on every forbidden arrow and passes the allowed ones.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = path.join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function crossings(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'layering/boundaries').map((m) => m.message);
}

test('imports across a forbidden boundary fail the lint', async () => {
  const forbidden: [string, string][] = [
    ['extension/views/x.ts', "import { Core } from '../../server/core';\nexport { Core };\n"],
    ['client/x.ts', "import type { Core } from '../server/core';\nexport type { Core };\n"],
    ['protocol/x.ts', "export { ApiError } from '../client/errors';\n"],
    ['protocol/y.ts', "export const load = () => import('../server/errors');\n"],
    ['server/x.ts', "import { ApiError } from '../client/errors';\nexport { ApiError };\n"],
    ['server/http/x.ts', "import { COMMANDS } from '../../extension/command-ids';\nexport { COMMANDS };\n"],
    ['webview/x.ts', "import { COMMANDS } from '../extension/command-ids';\nexport { COMMANDS };\n"],
    ['shared/x.ts', "import { ApiError } from '../client/errors';\nexport { ApiError };\n"],
    ['dashboard/x.ts', "import { askHidden } from '../shared/terminal-prompt';\nexport { askHidden };\n"],
  ];
  for (const [file, source] of forbidden) {
    const found = await crossings(file, source);
    assert.equal(found.length, 1, `${file}: ${source}`);
    assert.match(found[0]!, /may not import from/);
  }
});

test('protocol/ and the browser parts may not import Node built-ins', async () => {
  for (const file of ['protocol/x.ts', 'webview/x.ts', 'ui/x.ts', 'dashboard/x.ts']) {
    const found = await crossings(file, "import { createHash } from 'node:crypto';\nexport { createHash };\n");
    assert.equal(found.length, 1, file);
    assert.match(found[0]!, /may not import node:crypto.*shared\//);
  }
  assert.deepEqual(await crossings('shared/x.ts', "import { createHash } from 'node:crypto';\nexport { createHash };\n"), []);
});

test('the allowed arrows pass', async () => {
  const allowed: [string, string][] = [
    ['extension/x.ts', "import { ApiError } from '../client/errors';\nexport { ApiError };\n"],
    ['client/x.ts', "import { ERROR_CODES } from '../protocol/errors';\nexport { ERROR_CODES };\n"],
    ['server/x.ts', "import { ERROR_CODES } from '../protocol/errors';\nexport { ERROR_CODES };\n"],
    ['protocol/x.ts', "import { z } from 'zod';\nexport { ERROR_CODES } from './errors';\nexport { z };\n"],
    ['webview/x.ts', "import type { Cluster } from '../protocol/model';\nexport type { Cluster };\n"],
    ['server/x.ts', "import { askHidden } from '../shared/terminal-prompt';\nexport { askHidden };\n"],
    ['client/x.ts', "import { askHidden } from '../shared/terminal-prompt';\nexport { askHidden };\n"],
  ];
  for (const [file, source] of allowed) assert.deepEqual(await crossings(file, source), [], file);
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HostKeys } from '../../server/infra/ssh/host-keys';

test('a host key is trusted on first use and a different one later is refused', (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'skydeck-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keys = new HostKeys(dir);
  assert.equal(keys.check('10.0.0.1:22', Buffer.from('key-a')), undefined);
  assert.equal(new HostKeys(dir).check('10.0.0.1:22', Buffer.from('key-a')), undefined, 'remembered across restarts');
  assert.equal(keys.check('10.0.0.2:22', Buffer.from('key-b')), undefined, 'another host has its own key');
  assert.match(keys.check('10.0.0.1:22', Buffer.from('key-b')) ?? '', /host key of 10\.0\.0\.1:22 changed \(remembered SHA256:\S+, now SHA256:\S+\); .*known_hosts\.json/);
});

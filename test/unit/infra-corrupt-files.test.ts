// A corrupt host-key or allocation file is refused with its name, never read as empty (which would
// trust changed host keys again or hand a held host to a second cluster), and the file is kept.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HostAllocations } from '../../server/infra/ssh/host-allocations';
import { HostKeys } from '../../server/infra/ssh/host-keys';

function dataDirWith(name: string, content: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'skydeck-unit-'));
  mkdirSync(join(dir, 'ssh'));
  writeFileSync(join(dir, 'ssh', name), content);
  return dir;
}

for (const content of ['', '{"10.0.0.1:22": "SHA256:abc', 'null']) {
  test(`a known_hosts.json that is ${JSON.stringify(content)} refuses every host and is kept`, (t) => {
    const dir = dataDirWith('known_hosts.json', content);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const refusal = new HostKeys(dir).check('10.0.0.1:22', Buffer.from('key-b'));
    assert.match(refusal ?? '', /host keys file .*known_hosts\.json is not readable .*refuses to guess/);
    assert.equal(readFileSync(join(dir, 'ssh', 'known_hosts.json'), 'utf8'), content);
  });

  test(`an allocations.json that is ${JSON.stringify(content)} refuses to hand out hosts and is kept`, (t) => {
    const dir = dataDirWith('allocations.json', content);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const allocations = new HostAllocations(dir);
    assert.throws(() => allocations.take('pool', ['h1'], 'c2'), /host allocations file .*allocations\.json is not readable/);
    assert.throws(() => allocations.holder('pool', 'h1'), /not readable/);
    assert.equal(readFileSync(join(dir, 'ssh', 'allocations.json'), 'utf8'), content);
  });
}

test('missing files are empty: a new server trusts on first use and every host is free', (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'skydeck-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(new HostKeys(dir).check('10.0.0.1:22', Buffer.from('key-a')), undefined);
  const allocations = new HostAllocations(dir);
  allocations.take('pool', ['h1'], 'c1');
  assert.equal(allocations.holder('pool', 'h1'), 'c1');
  assert.throws(() => allocations.take('pool', ['h1'], 'c2'), /taken by cluster c1/);
});

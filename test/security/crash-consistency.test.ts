// What a crash, a kill -9 or a power loss leaves behind never stops the server or loses track of work.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server';

describe('crash consistency', () => {
  for (const [what, content] of [
    ['empty (a power loss before the write reached the disk)', ''],
    ['cut short', '{"schemaVersion":1,"clusters":{"a":{"name":"a","inf'],
    ['not an object', '[1,2,3]'],
  ] as const) {
    it(`a state.json that is ${what} does not stop the server from starting, and is kept aside`, async () => {
      let server: TestServer = await startServer();
      try {
        await server.stop();
        writeFileSync(path.join(server.dataDir, 'state.json'), content);
        server = await startServer({ home: server.home });
        assert.equal((await server.fetch('/api/health')).status, 200);
        assert.match(server.output(), /state\.json could not be read .*kept as .*state\.json\.unreadable-\d+/);
        const aside = readdirSync(server.dataDir).find((f) => f.startsWith('state.json.unreadable-'));
        assert.ok(aside);
        assert.equal(readFileSync(path.join(server.dataDir, aside), 'utf8'), content, 'the unreadable file is kept as it was');
        const id = await server.submit('launch', { clusterName: 'after', task: { run: 'echo ok' } });
        assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');
      } finally {
        await server.dispose();
      }
    });
  }
});

// The dashboard page names its assets, API and WebSocket relative to where it was loaded, so it works under
// a proxy's path prefix (code-server's /proxy/PORT/) as well as directly: the way back to the server's root
// from each page path, resolved as a browser resolves it, lands on the root in both cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootFrom } from '../../server/http/dashboard';

for (const page of ['/dashboard/', '/dashboard/requests', '/dashboard/requests/', '/dashboard/requests/1a2b', '/dashboard/clusters/dashboard/x']) {
  test(`from ${page} the root is reached directly and under /proxy/8080/`, () => {
    const root = rootFrom(page);
    assert.match(root, /^(\.\.\/)+$/);
    assert.equal(new URL(root, `http://h${page}`).pathname, '/');
    assert.equal(new URL(`${root}api/ws`, `http://h/proxy/8080${page}`).pathname, '/proxy/8080/api/ws');
  });
}

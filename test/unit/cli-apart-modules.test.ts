// The modules the CLI's bundles load on demand (client/validation.ts, client/yaml-parse.ts): in those
// bundles each export is a stand-in function that calls the real one (esbuild.config.mjs), which is right
// only for plain functions. A class (`new` on a stand-in), a constant or an object exported there would
// work in the extension and break only in the CLI, so this fails first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as validation from '../../client/validation';
import * as yamlParse from '../../client/yaml-parse';

for (const [file, exports] of [
  ['client/validation.ts', validation],
  ['client/yaml-parse.ts', yamlParse],
] as const) {
  test(`every export of ${file} is a plain function`, () => {
    const names = Object.keys(exports);
    assert.ok(names.length > 0);
    for (const name of names) {
      const value = (exports as Record<string, unknown>)[name];
      assert.equal(typeof value, 'function', `${name} is a function`);
      assert.doesNotMatch(Function.prototype.toString.call(value), /^class\b/, `${name} is not a class`);
    }
  });
}

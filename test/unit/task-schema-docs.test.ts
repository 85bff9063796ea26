// The JSON Schema and the docs key table are generated from the one task schema; this fails when the
// committed copies are stale (run `npm run gen:task-schema` to rewrite them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generatedFiles } from '../../scripts/task-schema-docs';
import { taskJsonSchema } from '../../protocol/task';

const root = path.join(import.meta.dirname, '..', '..');

test('protocol/task.schema.json and the docs key table are what the schema generates', () => {
  for (const [file, content] of Object.entries(generatedFiles())) {
    assert.equal(readFileSync(path.join(root, file), 'utf8'), content, `${file} is stale: run npm run gen:task-schema`);
  }
});

test('the JSON Schema names every key of the task schema and refuses others', () => {
  const schema = taskJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }>; additionalProperties: unknown };
  assert.equal(schema.additionalProperties, false);
  for (const key of ['resources', 'file_mounts', 'workdir', 'service', 'pool', 'config', 'volumes', 'volume_mounts', 'event_callback', 'inputs', 'outputs', 'managed_secrets']) {
    assert.ok(key in schema.properties, key);
  }
  for (const key of ['ports', 'any_of', 'ordered', 'autostop', 'image_id', 'disk_size', 'use_spot', 'labels']) assert.ok(key in schema.properties.resources!.properties!, `resources.${key}`);
});

// `api_server.endpoint` in SKYDECK_HOME/config.yaml, written by `api login` and removed by `api logout`.
// Edited through the YAML document so the user's other settings and comments stay as they were.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ClientError } from '../errors';
import { homePaths } from '../home';

export function saveEndpoint(home: string, url: string | undefined): void {
  const path = homePaths(home).config;
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // No config yet.
  }
  const doc = parseDocument(text.trim() === '' ? '{}' : text);
  if (doc.errors.length > 0) throw new ClientError('config_invalid', `${path} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (url !== undefined) {
    if (isMap(doc.contents)) doc.contents.flow = false;
    doc.setIn(['api_server', 'endpoint'], url);
  } else if (doc.hasIn(['api_server', 'endpoint'])) {
    doc.deleteIn(['api_server', 'endpoint']);
    const section = doc.get('api_server');
    if (isMap(section) && section.items.length === 0) doc.delete('api_server');
  } else {
    return;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, isMap(doc.contents) && doc.contents.items.length === 0 ? '' : doc.toString());
}

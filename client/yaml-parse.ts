// YAML as plain values (SKYDECK_HOME/config.yaml, `--config` values). In the CLI's bundles this is a
// stand-in that loads dist/cli-yaml-parse.js on its first call, like client/validation.ts: most commands
// read no YAML at all. Everything exported here must be a function.
export { parse as parseYaml } from 'yaml';

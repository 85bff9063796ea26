// Everything the client does with yaml and zod: parsing and validating a task file, laying SkyPilot's flags
// over it, finding the line of a key, checking a result the server sent. The CLI's bundles do not carry
// this module: each of its functions there is a stand-in that loads dist/cli-validation.js on its first
// call (esbuild.config.mjs), and a task file the CLI validated before comes from client/cli/task-cache.ts,
// so a repeated launch compiles neither library (issue 8: they were most of a `launch --dryrun`).
// Everything exported here must be a function.
export { fillEnvs, parseTaskDocuments, parseTaskYaml, validateTask } from '../protocol/task';
export { applyOverrides, configFromPairs } from '../protocol/task-overrides';
export { parseOperationResult } from '../protocol/api';
export { keyLineFinder, locateIssues } from './task-lines';

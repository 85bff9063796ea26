// dist/cli-validation.js: client/validation.ts for the CLI, which parses a task once per process and so
// turns zod's compiled fast path off (cold-zod.ts).
import './cold-zod';

export * from '../validation';

// A CLI process validates a task file once and exits. Compiling zod's fast path for each object schema
// (a generated function per shape) costs more than the one parse it would speed up: about 10 ms of a
// `launch --dryrun` on a 2-core machine (issue 8). Zod keeps this setting on globalThis, so it holds for
// every bundle of the process; the server and the extension, which parse all day, keep the fast path.
import { config } from 'zod';

config({ jitless: true });

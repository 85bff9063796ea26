// dist/cli.js, the `skydeck` program: runs the CLI (dist/cli-main.js, from client/cli/main.ts) through
// the code cache, as main.ts runs each command's bundle.
import { loadBundle } from './bundle-loader';

loadBundle('main');

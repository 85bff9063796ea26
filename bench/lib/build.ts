// The bundles under test. dist/ is shared with everyone working in this tree and can be rebuilt while
// the benchmark runs (sometimes minified, sometimes not), so the run copies server.js and cli.js (with its commands' bundles) once
// and measures that copy throughout. They stay side by side: the CLI finds server.js next to itself.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface Build {
  serverJs: string;
  cliJs: string;
  serverBytes: number;
  /** All of the CLI's bundles (cli.js and the cli-*.js it loads). */
  cliBytes: number;
  /** esbuild --production output (one long line) rather than the default readable bundle. */
  minified: boolean;
}

export function snapshotBuild(into: string, from = path.join(ROOT, 'dist')): Build {
  mkdirSync(into, { recursive: true });
  // cli.js loads its bundles (cli-main.js, cli-shared.js, each command's cli-launch.js...) from beside itself.
  const cliCommands = existsSync(from) ? readdirSync(from).filter((f) => /^cli-[\w-]+\.js$/.test(f)) : [];
  for (const name of ['server.js', 'cli.js', ...cliCommands]) {
    const source = path.join(from, name);
    if (!existsSync(source)) throw new Error(`${source} is missing: run npm run build (npm run bench does)`);
    copyFileSync(source, path.join(into, name));
    if (existsSync(`${source}.map`)) copyFileSync(`${source}.map`, path.join(into, `${name}.map`));
  }
  const serverJs = path.join(into, 'server.js');
  const cliJs = path.join(into, 'cli.js');
  const text = readFileSync(serverJs, 'utf8');
  const lines = text.split('\n').length;
  const cliBytes = ['cli.js', ...cliCommands].reduce((sum, name) => sum + statSync(path.join(into, name)).size, 0);
  return { serverJs, cliJs, serverBytes: statSync(serverJs).size, cliBytes, minified: text.length / lines > 2000 };
}

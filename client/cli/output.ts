// Terminal output and exit codes for the CLI: results on stdout, notes and errors on stderr.
// One copy serves every bundle of the CLI (it is part of dist/cli-shared.js, see esbuild.config.mjs), so
// what a command's bundle throws is told apart by its class.
import { TaskValidationError } from '../../protocol/task-issues';
import { ClientError } from '../errors';

export const EXIT = { ok: 0, error: 1, usage: 2, interrupted: 130 } as const;

/** Ends a command with an exit code after it has printed what it had to say. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function note(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `-o json` and `--json` mean the same (SkyPilot's -o/--output); any other -o but table is a usage error. */
export function jsonOutput(options: { json?: boolean; output?: string }): boolean {
  const output = options.output?.toLowerCase();
  if (output !== undefined && output !== 'json' && output !== 'table') throw new CliExit(EXIT.usage, 'Error: -o/--output takes table or json');
  return options.json === true || output === 'json';
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** Writes a chunk to stdout, waiting when the terminal or pipe is behind so a fast log cannot pile up in memory. */
export function writeChunk(text: string): Promise<void> | void {
  if (!process.stdout.write(text)) return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

/** Runs a command's action and turns whatever it throws into a message and an exit code; never a stack trace. */
export async function runAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    process.exitCode = report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CliExit) {
    if (err.message) note(err.message);
    return err.code;
  }
  if (err instanceof TaskValidationError) {
    note(err.message);
    return EXIT.usage;
  }
  if (err instanceof ClientError) {
    note(`Error: ${err.message}`);
    return EXIT.error;
  }
  const message = err instanceof Error ? err.message : String(err);
  note(`Error: ${message}`);
  if (process.env.SKYDECK_DEBUG && err instanceof Error && err.stack) note(err.stack);
  return EXIT.error;
}

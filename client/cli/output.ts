// Terminal output and exit codes for the CLI: results on stdout, notes and errors on stderr.

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

// Each command is a bundle of its own (dist/cli-<command>.js) with its own copy of this module and of
// client/errors.ts, so what a command throws is told apart by its name, not by class identity.
const named = (err: unknown, ...names: string[]): err is Error => err instanceof Error && names.includes(err.name);

function report(err: unknown): number {
  if (named(err, 'CliExit')) {
    if (err.message) note(err.message);
    return (err as CliExit).code;
  }
  // Checked by its type tag so that this module, loaded for every command, does not pull in the task schema.
  if ((err as { type?: unknown } | undefined)?.type === 'TaskValidationError') {
    note((err as Error).message);
    return EXIT.usage;
  }
  if (named(err, 'ClientError', 'ApiError', 'ConnectionError')) {
    note(`Error: ${err.message}`);
    return EXIT.error;
  }
  const message = err instanceof Error ? err.message : String(err);
  note(`Error: ${message}`);
  if (process.env.SKYDECK_DEBUG && err instanceof Error && err.stack) note(err.stack);
  return EXIT.error;
}

// Node-only pieces both the API server's admin commands and the skydeck CLI use (see docs/architecture.md):
// here because server/ and client/ may not import each other, and protocol/ holds no Node code.

/** Ctrl-C at a hidden prompt: each caller maps it to its own exit (CliExit, ConfigError). */
export class PromptCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Reads a line from the terminal without echoing it (backspace edits, Ctrl-C rejects with
 * PromptCancelled). The caller checks `process.stdin.isTTY` first and says what to pass instead.
 */
export function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new PromptCancelled());
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    stdin.on('data', onData);
  });
}

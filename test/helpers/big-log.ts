// A job that writes a big coloured log fast (for the dashboard's "a 50 MB log does not freeze the tab"
// test and figure): numbered lines of about 210 bytes with ANSI colours, then `the-end`.
export const BIG_LOG_LINE_BYTES = 210;

/** The run command of a job writing about `mb` MiB of log. */
export function bigLogCommand(mb: number): string {
  const lines = Math.ceil((mb * 1024 * 1024) / BIG_LOG_LINE_BYTES);
  // awk writes it in a second or two.
  const pad = 'x'.repeat(BIG_LOG_LINE_BYTES - 23); // 23: the colour codes, the number, a space and the newline
  return `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) printf "\\033[32mline %07d\\033[0m ${pad}\\n", i; print "the-end" }'`;
}

export function bigLogLines(mb: number): number {
  return Math.ceil((mb * 1024 * 1024) / BIG_LOG_LINE_BYTES);
}

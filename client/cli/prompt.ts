// Yes/no confirmation on the terminal; Enter means yes, end of input or Ctrl+C means no.
import { createInterface } from 'node:readline';

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      // Ctrl+C at the prompt is a no (readline would otherwise just pause).
      rl.once('SIGINT', () => rl.close());
      rl.question(`${question} [Y/n] `, resolve);
    });
    if (answer === undefined) {
      process.stdout.write('\n');
      return false;
    }
    return /^(y|yes)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

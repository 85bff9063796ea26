// `skydeck dashboard [--url]`: opens the server's dashboard in a browser, already signed in through a
// one-time link (it works once, within 30 seconds); --url prints the link instead, for a browser on
// another machine or a script.
import { spawn } from 'node:child_process';
import { connect } from '../context';
import { note, print } from '../output';

export async function dashboard(options: { url?: boolean }): Promise<void> {
  const { client } = await connect();
  try {
    const link = await client.dashboardLink();
    if (options.url) return print(link);
    if (await openBrowser(link)) note('Opened the dashboard in your browser (the sign-in link works once, within 30 seconds).');
    else print(`Open this link in a browser within 30 seconds (it works once):\n${link}`);
  } finally {
    client.close();
  }
}

/** $BROWSER if set, else the platform's opener; false when none could be started. */
function openBrowser(url: string): Promise<boolean> {
  const [command, ...args] = process.env.BROWSER
    ? [process.env.BROWSER, url]
    : process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', url]
        : ['xdg-open', url];
  return new Promise((resolve) => {
    const child = spawn(command!, args, { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

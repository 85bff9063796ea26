// Registers every contributed command at activation; the handlers module loads on the first call.
import * as vscode from 'vscode';
import { COMMANDS } from '../command-ids';
import type { Services } from '../services';

export function registerCommands(s: Services): vscode.Disposable[] {
  return Object.values(COMMANDS).map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        const { HANDLERS } = await import('./handlers');
        return await HANDLERS[id](s, ...args);
      } catch (err) {
        s.logger.error(err as Error);
        void vscode.window.showErrorMessage(`SkyDeck: ${(err as Error).message}`);
      }
    }),
  );
}

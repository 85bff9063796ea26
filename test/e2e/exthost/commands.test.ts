/// <reference types="mocha" />
// Every command the manifest contributes is registered once the extension is active.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../extension/command-ids';

describe('commands', () => {
  it('registers every contributed command', async () => {
    const extension = vscode.extensions.getExtension('skydeck.skydeck')!;
    await extension.activate();
    const contributed: string[] = extension.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    assert.deepEqual([...contributed].sort(), Object.values(COMMANDS).sort());
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('the view filters switch the context keys their title-bar toggles depend on', async () => {
    const extension = vscode.extensions.getExtension('skydeck.skydeck')!;
    const { services } = await extension.activate();
    await vscode.commands.executeCommand(COMMANDS.showAllRequests);
    assert.equal(services.requests.filter.showFinished, true);
    await vscode.commands.executeCommand(COMMANDS.showOngoing);
    assert.equal(services.requests.filter.showFinished, false);
    await vscode.commands.executeCommand(COMMANDS.showEveryone);
    assert.equal(services.requests.filter.allUsers, true);
    await vscode.commands.executeCommand(COMMANDS.showMine);
    assert.equal(services.requests.filter.allUsers, false);
  });
});

// Task YAML files in the workspace, for the Launch quick pick, the Launch form and the CodeLens.
import * as vscode from 'vscode';
import { looksLikeTask } from './task-yaml';

const EXCLUDE = '**/{node_modules,.git,dist,build,out,.test-artifacts}/**';
const MAX_FILES = 200;

export function isYamlDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'yaml' || /\.ya?ml$/i.test(doc.uri.path);
}

export function isTaskDocument(doc: vscode.TextDocument): boolean {
  return isYamlDocument(doc) && looksLikeTask(doc.getText());
}

export async function findTaskFiles(): Promise<vscode.Uri[]> {
  const uris = await vscode.workspace.findFiles('**/*.{yaml,yml}', EXCLUDE, MAX_FILES);
  const checked = await Promise.all(
    uris.map(async (uri) => {
      return looksLikeTask(await readText(uri)) ? uri : undefined;
    }),
  );
  return checked.filter((u): u is vscode.Uri => u !== undefined).sort((a, b) => a.path.localeCompare(b.path));
}

/** The text of a file, as edited when it is open (unsaved changes included). */
export async function readText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  return open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

export class TaskCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!isTaskDocument(doc)) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '$(rocket) Launch on SkyDeck', command: 'skydeck.launchTaskFile', arguments: [doc.uri] }),
      new vscode.CodeLens(top, { title: 'Open in Launch Form', command: 'skydeck.openLaunchForm', arguments: [doc.uri] }),
    ];
  }
}

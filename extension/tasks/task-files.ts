// Which files are task files (the skydeck.taskFiles.* settings), and the workspace's task files for the
// Launch quick pick, the Launch form and the CodeLens.
import * as vscode from 'vscode';
import { SETTINGS } from '../command-ids';
import { DEFAULT_TASK_KEYS, looksLikeTask } from './task-yaml';

const EXCLUDE = '**/{node_modules,.git,dist,build,out,.test-artifacts}/**';
const MAX_FILES = 200;
const DEFAULT_PATTERNS = ['**/*.sky.yaml', '**/*.sky.yml'];

interface TaskFileRules {
  /** Globs whose files are task files whatever they hold. */
  patterns: string[];
  /** Top-level keys that make any other YAML file a task file. */
  keys: string[];
}

let rules: TaskFileRules | undefined;

function currentRules(): TaskFileRules {
  if (!rules) {
    const config = vscode.workspace.getConfiguration('skydeck');
    rules = { patterns: config.get<string[]>(SETTINGS.taskFilePatterns, DEFAULT_PATTERNS), keys: config.get<string[]>(SETTINGS.taskFileKeys, DEFAULT_TASK_KEYS) };
  }
  return rules;
}

/** Drops the cached rules when their settings change; returns whether they did. */
export function onTaskFileSettingsChanged(e: vscode.ConfigurationChangeEvent): boolean {
  if (!e.affectsConfiguration(`skydeck.${SETTINGS.taskFilePatterns}`) && !e.affectsConfiguration(`skydeck.${SETTINGS.taskFileKeys}`)) return false;
  rules = undefined;
  return true;
}

export function isYamlDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'yaml' || /\.ya?ml$/i.test(doc.uri.path);
}

export function isTaskDocument(doc: vscode.TextDocument): boolean {
  if (!isYamlDocument(doc)) return false;
  const { patterns, keys } = currentRules();
  return patterns.some((pattern) => vscode.languages.match({ pattern }, doc) > 0) || looksLikeTask(doc.getText(), keys);
}

export async function findTaskFiles(): Promise<vscode.Uri[]> {
  const { patterns, keys } = currentRules();
  const [uris, ...matched] = await Promise.all([
    vscode.workspace.findFiles('**/*.{yaml,yml}', EXCLUDE, MAX_FILES),
    ...patterns.map((pattern) => vscode.workspace.findFiles(pattern, EXCLUDE, MAX_FILES)),
  ]);
  const byPattern = new Set(matched.flat().map((u) => u.toString()));
  const checked = await Promise.all(uris!.map(async (uri) => (byPattern.has(uri.toString()) || looksLikeTask(await readText(uri), keys) ? uri : undefined)));
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

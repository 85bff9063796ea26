// Task files as they are typed: problems in the editor and the Problems panel (what `skydeck launch`
// would say, at the key), completion of keys and of values the server knows, hover docs for every key,
// and a quick fix that renames a misspelt key. Works without the YAML extension; with it, the manifest's
// yamlValidation gives it the same JSON Schema.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { acceleratorOffers } from '../../protocol/infra';
import { Disposable } from '../disposable';
import type { Logger } from '../logger';
import type { TaskServerFacts } from './server-facts';
import type { TaskProblem } from './task-check';
import { isTaskDocument, onTaskFileSettingsChanged } from './task-files';
import { cursorPlace, keyUnderCursor } from './yaml-cursor';

const SOURCE = 'skydeck';
/** Typing pauses this long before the file is checked again. */
const CHECK_DELAY_MS = 250;
const YAML: vscode.DocumentSelector = [{ language: 'yaml' }];

export class TaskLanguageFeatures extends Disposable implements vscode.CompletionItemProvider, vscode.HoverProvider, vscode.CodeActionProvider {
  private readonly diagnostics = this._register(vscode.languages.createDiagnosticCollection(SOURCE));
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly facts: TaskServerFacts,
    private readonly logger: Logger,
  ) {
    super();
    this._register(vscode.languages.registerCompletionItemProvider(YAML, this, ':', ' ', '/'));
    this._register(vscode.languages.registerHoverProvider(YAML, this));
    this._register(vscode.languages.registerCodeActionsProvider(YAML, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));
    this._register(vscode.workspace.onDidOpenTextDocument((doc) => this.schedule(doc, 0)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, CHECK_DELAY_MS)));
    this._register(vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc.uri)));
    this._register(facts.onDidChange(() => this.checkAll()));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (onTaskFileSettingsChanged(e) || e.affectsConfiguration('skydeck.taskFiles.check')) this.checkAll();
      }),
    );
    this._register({ dispose: () => this.pending.forEach((t) => clearTimeout(t)) });
    this.checkAll();
  }

  private checkAll(): void {
    for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (doc.uri.scheme === 'output' || doc.uri.scheme === 'git') return;
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        void this.check(doc).catch((err: Error) => this.logger.error(err));
      }, delay),
    );
  }

  private forget(uri: vscode.Uri): void {
    clearTimeout(this.pending.get(uri.toString()));
    this.pending.delete(uri.toString());
    this.diagnostics.delete(uri);
  }

  private async check(doc: vscode.TextDocument): Promise<void> {
    if (doc.isClosed || !isTaskDocument(doc) || !vscode.workspace.getConfiguration('skydeck').get<boolean>('taskFiles.check', true)) {
      this.diagnostics.delete(doc.uri);
      return;
    }
    void this.facts.refresh();
    const version = doc.version;
    // The schema and parser load on the first task file, not at activation.
    const { checkTaskText, problemColumns } = await import('./task-check');
    const found = checkTaskText(doc.getText(), { ...(doc.uri.scheme === 'file' ? { base: dirname(doc.uri.fsPath) } : {}), server: { infra: this.facts.infra } });
    if (doc.isClosed || doc.version !== version) return;
    this.diagnostics.set(doc.uri, found.map((p) => diagnostic(doc, p, problemColumns)));
  }

  async provideCompletionItems(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionItem[] | undefined> {
    if (!isTaskDocument(doc)) return undefined;
    const lines = doc.getText().split(/\r?\n/);
    const place = cursorPlace(lines, position.line, position.character);
    if (!place) return undefined;
    // The word being typed, through its end (so accepting in the middle of a word replaces all of it).
    const rest = /^[^\s:#]*/.exec(lines[position.line]!.slice(position.character))![0];
    const range = new vscode.Range(position.line, place.start, position.line, position.character + rest.length);
    const { keysAt, valueChoices } = await import('./task-keys');
    if (place.kind === 'key') {
      const present = siblingKeys(lines, position.line, place.start);
      return keysAt(place.parent)
        .filter((k) => !present.has(k.key))
        .map((k) => {
          const item = new vscode.CompletionItem({ label: k.key, description: k.type }, vscode.CompletionItemKind.Property);
          item.insertText = `${k.key}: `;
          item.range = range;
          if (k.description) item.documentation = new vscode.MarkdownString(k.description);
          // Re-open the list for the value, where the server's names are offered.
          item.command = { command: 'editor.action.triggerSuggest', title: 'Suggest values' };
          return item;
        });
    }
    const key = place.key!;
    const inResources = place.parent.includes('resources');
    const values =
      inResources && key === 'infra'
        ? this.infraChoices()
        : inResources && key === 'accelerators'
          ? this.acceleratorChoices()
          : valueChoices([...place.parent, key]).map((label) => ({ label, detail: undefined as string | undefined, enabled: true }));
    return values.map((v, i) => {
      const item = new vscode.CompletionItem({ label: v.label, description: v.detail }, vscode.CompletionItemKind.Value);
      item.range = range;
      item.sortText = `${v.enabled ? 0 : 1}${String(i).padStart(4, '0')}`;
      return item;
    });
  }

  /** Infra names the server answered with: its pools and partitions when on, each kind that is off after them. */
  private infraChoices(): { label: string; detail: string; enabled: boolean }[] {
    const infra = this.facts.infra ?? [];
    return [
      ...infra.filter((i) => i.enabled).map((i) => ({ label: i.infra, detail: 'enabled on this server', enabled: true })),
      ...infra.filter((i) => !i.enabled).map((i) => ({ label: i.infra, detail: `not enabled: ${i.reason ?? 'off'}`, enabled: false })),
    ];
  }

  /** `NAME:COUNT` for each accelerator a node of an enabled infra has, as `skydeck gpus list` reads the inventory. */
  private acceleratorChoices(): { label: string; detail: string; enabled: boolean }[] {
    return acceleratorOffers(this.facts.infra ?? []).flatMap((offer) =>
      offer.perNode.map((count) => ({ label: `${offer.name}:${count}`, detail: `${offer.infra}: ${offer.usableNodes} of ${offer.nodes} node(s) free`, enabled: offer.usableNodes > 0 })),
    );
  }

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!isTaskDocument(doc)) return undefined;
    const lines = doc.getText().split(/\r?\n/);
    const under = keyUnderCursor(lines, position.line, position.character);
    if (!under) return undefined;
    const { keyDocs } = await import('./task-keys');
    const docs = keyDocs(under.path);
    return docs ? new vscode.Hover(new vscode.MarkdownString(docs), new vscode.Range(position.line, under.start, position.line, under.end)) : undefined;
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    return context.diagnostics
      .filter((d) => d.source === SOURCE && d.code === 'unknown-key')
      .flatMap((d) => {
        const suggestion = /did you mean ([^?\s]+)\?/.exec(d.message)?.[1];
        if (!suggestion) return [];
        const fix = new vscode.CodeAction(`Rename to '${suggestion}'`, vscode.CodeActionKind.QuickFix);
        fix.edit = new vscode.WorkspaceEdit();
        fix.edit.replace(doc.uri, d.range, suggestion);
        fix.diagnostics = [d];
        fix.isPreferred = true;
        return [fix];
      });
  }
}

function diagnostic(doc: vscode.TextDocument, problem: TaskProblem, columns: (line: string, p: TaskProblem) => { start: number; end: number }): vscode.Diagnostic {
  const line = Math.min(Math.max((problem.line ?? 1) - 1, 0), doc.lineCount - 1);
  const text = doc.lineAt(line).text;
  const { start, end } = problem.line === undefined ? { start: 0, end: text.length } : columns(text, problem);
  const severity = problem.kind === 'env-required' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error;
  // The CLI's words: `path: message` (it adds file:line, which the editor shows itself).
  const d = new vscode.Diagnostic(new vscode.Range(line, start, line, Math.max(end, start + 1)), `${problem.path ? `${problem.path}: ` : ''}${problem.message}`, severity);
  d.source = SOURCE;
  d.code = problem.kind;
  return d;
}

/** The keys already written in the mapping the line at `column` belongs to (so completion leaves them out). */
function siblingKeys(lines: readonly string[], line: number, column: number): Set<string> {
  const keys = new Set<string>();
  const scan = (from: number, step: number) => {
    for (let i = from; i >= 0 && i < lines.length; i += step) {
      const text = lines[i]!;
      if (/^\s*(#.*)?$/.test(text)) continue;
      if (/^(---|\.\.\.)(\s|$)/.test(text)) return;
      const indent = text.search(/\S/);
      if (indent < column) return;
      const m = /^\s*(?:-\s+)?([^\s#:][^:#]*?)\s*:(\s|$)/.exec(text);
      if (indent === column && m) keys.add(m[1]!);
    }
  };
  scan(line - 1, -1);
  scan(line + 1, 1);
  return keys;
}

// Turns the plain icon descriptions of format.ts into ThemeIcons.
import * as vscode from 'vscode';
import type { IconSpec } from '../format';

export function themeIcon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.id, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

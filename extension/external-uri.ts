// A URL of this machine (the API server, a cluster's endpoint) as the user's browser can reach it. In a
// remote window (code-server, Remote-SSH, Codespaces) asExternalUri forwards the port, but code-server
// answers with the forwarded origin alone, dropping the path and query: they are put back here, so a
// one-time sign-in link keeps its code.
import * as vscode from 'vscode';

export async function externalUri(url: string): Promise<vscode.Uri> {
  const target = vscode.Uri.parse(url, true);
  const resolved = await vscode.env.asExternalUri(target.with({ path: '/', query: '', fragment: '' }));
  if (resolved.toString() === target.with({ path: '/', query: '', fragment: '' }).toString()) return target;
  const base = resolved.path.endsWith('/') ? resolved.path : `${resolved.path}/`;
  return resolved.with({ path: base + target.path.replace(/^\//, ''), query: target.query, fragment: target.fragment });
}

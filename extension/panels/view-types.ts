// The viewType of each panel kind: what its panels are created with, what its serializer restores after a
// window reload, and what its `onWebviewPanel:` activation event in package.json names. Apart from the
// panel modules, which load when a panel first opens.
import type { PanelKind } from '../../protocol/webview';

export function panelViewType(kind: PanelKind): string {
  return `skydeck.${kind}`;
}

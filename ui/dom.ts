// Browser code shared by the VS Code webview panels and the dashboard: plain DOM, no framework, so
// either host can mount it (the dashboard inside a Preact component, the panels directly).

/** Creates an element with attributes and children; text is always set as text, never parsed as HTML. */
export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

// The page's side of the typed protocol: post to the extension, receive from it.
import type { ExtensionToWebview, WebviewToExtension } from '../protocol/webview';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: WebviewToExtension): void {
  api.postMessage(message);
}

export function onMessage(handler: (message: ExtensionToWebview) => void): void {
  window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => handler(event.data));
}

/** Creates an element with attributes and children; text is always set as text, never parsed as HTML. */
export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

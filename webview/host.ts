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

export { el } from '../ui/dom';

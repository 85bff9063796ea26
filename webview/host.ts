// The page's side of the typed protocol: post to the extension, receive from it.
import type { ExtensionToWebview, WebviewCalls, WebviewMethod, WebviewReply, WebviewToExtension } from '../protocol/webview';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: WebviewToExtension): void {
  api.postMessage(message);
}

/**
 * What this page saved with `saveState`, kept by VS Code while the panel is open: it discards a hidden
 * panel's page and loads it afresh when shown, so a page restores from this what the user entered.
 * It may come from an older version of the page: read it as unknown and keep only what fits.
 */
export function savedState(): unknown {
  return api.getState();
}

export function saveState(state: unknown): void {
  api.setState(state);
}

const pending = new Map<number, { resolve(result: unknown): void; reject(err: Error): void }>();
let nextCall = 1;

/** Asks the extension and resolves with its answer (rejects with the reason it failed). */
export function call<M extends WebviewMethod>(method: M, params: WebviewCalls[M]['params']): Promise<WebviewCalls[M]['result']> {
  const id = nextCall++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
    api.postMessage({ type: 'call', id, method, params } as WebviewToExtension);
  });
}

function settle(reply: WebviewReply): void {
  const waiting = pending.get(reply.replyTo);
  if (!waiting) return;
  pending.delete(reply.replyTo);
  if (reply.error !== undefined) waiting.reject(new Error(reply.error));
  else waiting.resolve(reply.result);
}

/** Everything the extension sends except replies, which go to their calls. */
export function onMessage(handler: (message: Exclude<ExtensionToWebview, WebviewReply>) => void): void {
  window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
    if (event.data.type === 'reply') settle(event.data);
    else handler(event.data);
  });
}

export { el } from '../ui/dom';

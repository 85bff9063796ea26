// The page a browser gets for /api/stream: it follows the same stream as plain text and shows it live.
import type { RequestSummary } from '../../protocol/model';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function logPage(request: RequestSummary, nonce: string): string {
  const title = `${request.name} ${request.id.slice(0, 8)}${request.clusterName ? ` on ${request.clusterName}` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SkyDeck: ${escapeHtml(title)}</title>
<style nonce="${nonce}">
body{margin:0;font:13px/1.45 ui-monospace,Menlo,Consolas,monospace;background:#1e1e1e;color:#d4d4d4}
header{position:sticky;top:0;padding:8px 12px;background:#252526;border-bottom:1px solid #333;display:flex;gap:12px;align-items:center}
#status{font-weight:bold}
pre{margin:0;padding:12px;white-space:pre-wrap;word-break:break-all}
</style></head>
<body><header><span>SkyDeck · ${escapeHtml(title)} · ${escapeHtml(request.user.name)}</span><span id="status">${request.status}</span>
<label><input type="checkbox" id="follow" checked> follow</label></header>
<pre id="log"></pre>
<script nonce="${nonce}">
(async () => {
  const log = document.getElementById('log'), status = document.getElementById('status'), follow = document.getElementById('follow');
  const params = new URLSearchParams(location.search);
  params.set('format', 'plain');
  params.set('follow', '1');
  const response = await fetch(location.pathname + '?' + params, { headers: { accept: 'text/plain' } });
  if (!response.ok) { status.textContent = 'error ' + response.status; return; }
  status.textContent = 'streaming';
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // Heartbeats are NUL bytes; colour codes are dropped rather than shown as noise.
    log.append(value.replace(/\\0/g, '').replace(/\\x1b\\[[0-9;]*m/g, ''));
    if (follow.checked) window.scrollTo(0, document.body.scrollHeight);
  }
  status.textContent = 'finished';
})();
</script></body></html>`;
}

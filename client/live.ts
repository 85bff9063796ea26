// The CLI's and the editor's live connection: the shared live session (client/live-session.ts) over a
// `ws` socket, which reaches the owner's local server over its Unix socket and reports a refused upgrade
// with its HTTP status.
import WebSocket from 'ws';
import type { ApiClient } from './api-client';
import { LiveSession, type LiveOptions, type LiveSocket, type LiveSocketEvents } from './live-session';

export type { LiveError, LiveOptions, LiveState, LiveStateChange, LogFollower } from './live-session';

export class LiveConnection extends LiveSession {
  constructor(client: ApiClient, options: LiveOptions = {}) {
    super((events) => openSocket(client, events), options);
  }
}

function openSocket(client: ApiClient, events: LiveSocketEvents): LiveSocket {
  const { url: base, localSocket } = client.endpoint;
  // The owner's local server is reached over its Unix socket, with the Host its gate expects.
  const url = localSocket ? `ws+unix://${localSocket}:/api/ws` : base.replace(/^http/, 'ws') + '/api/ws';
  const headers = localSocket ? { ...client.headers, host: new URL(base).host } : { ...client.headers };
  const socket = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
  let lastError: Parameters<LiveSocketEvents['onClose']>[0];
  socket.on('open', () => events.onOpen());
  socket.on('message', (data) => events.onMessage(String(data)));
  socket.on('unexpected-response', (_req, res) => {
    const status = res.statusCode ?? 0;
    lastError = { kind: 'refused', status, message: `the server refused the WebSocket (HTTP ${status})` };
    res.resume();
    socket.terminate();
  });
  socket.on('error', (err) => {
    lastError ??= { kind: 'network', message: err.message };
  });
  socket.on('close', () => events.onClose(lastError));
  return {
    send: (text) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    },
    close: () => socket.close(),
    terminate: () => socket.terminate(),
  };
}

// The page's WebSocket to /api/ws: the same live session as the CLI's and the editor's
// (client/live-session.ts), over the browser's WebSocket, same origin, signed in by the session cookie.
import { LiveSession, type LiveSocket } from '../client/live-session';
import { apiPath } from './api';

export type { LiveState } from '../client/live-session';

export function openLive(): LiveSession {
  return new LiveSession((events): LiveSocket => {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${apiPath('/api/ws')}`);
    socket.onopen = () => events.onOpen();
    socket.onmessage = (event) => events.onMessage(String(event.data));
    // A browser says nothing about why (no HTTP status of a refused upgrade): the page asks /api/me.
    socket.onclose = () => events.onClose({ kind: 'network', message: 'the connection closed' });
    return {
      send: (text) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(text);
      },
      close: () => socket.close(),
      // A silent connection may take long to finish a closing handshake: stop listening and reconnect now.
      terminate: () => {
        socket.onclose = null;
        socket.close();
        events.onClose({ kind: 'network', message: 'the server went silent' });
      },
    };
  });
}

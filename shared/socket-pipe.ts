// A TCP connection's bytes into a WebSocket, for both ends of a port forward (client/forward.ts, the local
// user's connection; server/forward/port-forwards.ts, the cluster's endpoint).
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';

/**
 * Sends what `socket` reads to `ws` as binary frames, and stops reading it while more than `highWater`
 * bytes wait to go out, until they are below half of it. `ws.send` never refuses a frame: without the
 * mark, a fast sender and a WebSocket reader that stalls would fill this process's memory, where with it
 * the stall reaches the sender through TCP's own flow control. The half is a low-water mark, so that a
 * reader just at the mark does not pause and resume the socket at every frame.
 */
export function pipeToWebSocket(socket: Socket, ws: WebSocket, highWater: number): void {
  let paused = false;
  socket.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    // Called once the frame has been written to ws's own socket, so bufferedAmount has gone down by then.
    ws.send(chunk, { binary: true }, () => {
      if (paused && ws.bufferedAmount < highWater / 2) {
        paused = false;
        socket.resume();
      }
    });
    if (!paused && ws.bufferedAmount > highWater) {
      paused = true;
      socket.pause();
    }
  });
}

/** A binary message's bytes as one Buffer, whichever of its forms `ws` gave. */
export function frameBytes(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

// The live benchmark's baseline: a bare socket.io server in its own process (forked with tsx), no database, no
// authentication, no adapter. Clients `join` a room (acked); on the parent's {start: {rooms, intervalMs, durationMs}}
// every room gets a token-sized event every intervalMs, sent with plain `io.to(room).emit` and stamped with the wall
// clock at the emit, then the parent is told {done}. `noop` is acked at once (a no-op round trip).
// IPC: child -> parent {port} once; parent -> child {clock} (answered {clock, at}), {start}, 'stop'.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const wallMs = () => performance.timeOrigin + performance.now();
const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });
io.on('connection', (socket) => {
  socket.on('join', async (room: string, ack: () => void) => {
    await socket.join(room);
    ack();
  });
  socket.on('noop', (ack: () => void) => ack());
});

async function tick(rooms: string[], intervalMs: number, durationMs: number): Promise<number> {
  let sent = 0;
  const end = wallMs() + durationMs;
  await Promise.all(
    rooms.map(async (room, r) => {
      // Rooms start out of phase, as sessions' tokens do.
      await new Promise((resolve) => setTimeout(resolve, (r * intervalMs) / rooms.length));
      let seq = 0;
      while (wallMs() < end) {
        seq++;
        io.to(room).emit('tick', { seq, id: `tick-${r}-${seq}`, type: 'tokens', actorId: null, payload: { turn: 0, offset: seq * 8, text: `${r}.0.${seq} ` }, at: new Date().toISOString(), sentAt: wallMs() });
        sent++;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    }),
  );
  return sent;
}

process.on('message', (message: unknown) => {
  if (message === 'stop') {
    io.close();
    process.exit(0);
  }
  if (typeof message !== 'object' || message === null) return;
  if ('clock' in message) process.send!({ clock: (message as { clock: number }).clock, at: wallMs() });
  if ('start' in message) {
    const { rooms, intervalMs, durationMs } = (message as { start: { rooms: string[]; intervalMs: number; durationMs: number } }).start;
    void tick(rooms, intervalMs, durationMs).then((sent) => process.send!({ done: sent }));
  }
});
httpServer.listen(0, '127.0.0.1', () => process.send!({ port: (httpServer.address() as AddressInfo).port }));

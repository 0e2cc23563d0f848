import { startRoom } from '../live/room.ts';
import { enhance } from '../registry.ts';

/**
 * `<div data-enhance="live-room" data-session-id="…">` (a live session's page): follows the session live over
 * socket.io (loaded on demand from /assets/socket.io.js) and gives each role its controls; see client/live/room.ts.
 */
enhance('live-room', (room) => startRoom(room));

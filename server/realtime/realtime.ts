import type { Server as SocketServer } from 'socket.io';
import { anonymous, type Actor } from '../../accounts/actor.ts';
import { resolveApiToken } from '../../accounts/api-tokens.ts';
import { resolveSession } from '../../accounts/sessions.ts';
import type { AppDeps } from '../app-deps.ts';
import { SESSION_COOKIE } from '../http/cookies.ts';

declare module 'socket.io' {
  interface SocketData { actor: Actor }
}

/**
 * Socket.io: the handshake resolves the same actor as HTTP (session cookie or `auth.token`), so socket
 * handlers pass the same authorization policy. Domain handlers attach here as they arrive.
 */
export function attachRealtime(io: SocketServer, deps: AppDeps): void {
  io.use(async (socket, next) => {
    try {
      const token = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : undefined;
      if (token) {
        const lookup = await resolveApiToken(deps.db, token, deps.now());
        if (lookup.state !== 'active') return next(new Error(lookup.state === 'revoked' ? 'token_revoked' : 'unauthenticated'));
        socket.data.actor = lookup.actor;
        return next();
      }
      const cookie = parseCookie(socket.handshake.headers.cookie ?? '', SESSION_COOKIE);
      if (cookie) {
        const lookup = await resolveSession(deps.db, cookie, deps.now(), deps.config.sessionDays);
        socket.data.actor = lookup.state === 'active' ? lookup.actor : anonymous;
      } else socket.data.actor = anonymous;
      next();
    } catch {
      next(new Error('internal'));
    }
  });
  io.on('connection', (socket) => {
    socket.on('whoami', (ack: unknown) => {
      if (typeof ack !== 'function') return;
      const a = socket.data.actor;
      ack({ ok: true, actor: a.kind === 'user' ? { id: a.id, role: a.role, displayName: a.displayName } : null });
    });
  });
}

function parseCookie(header: string, name: string): string | undefined {
  for (const piece of header.split(';')) {
    const [k, ...v] = piece.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

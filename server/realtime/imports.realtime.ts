import type { Server as SocketServer } from 'socket.io';
import { z } from 'zod';
import { AppError, notFound } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { presentImport, type ImportView } from '../../observations/import.presenter.ts';
import { loadImport } from '../../observations/import.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import type { ImportQueue } from '../imports/import-queue.ts';

/**
 * The socket events of imports (the contract the import page's script uses):
 * - client -> server `import:join` `{ importId }`, ack `{ ok: true, import: ImportView }` (the current state, so a
 *   page opened mid-import starts from it) or `{ error: { id, message } }`. Joining needs the same right as reading
 *   the import (`import.read`): someone else's import is `not_found`, an anonymous socket `unauthenticated`.
 * - server -> client `import:progress` ImportView, at most every 150 ms while it runs, and `import:finished`
 *   ImportView once, when it is `done` or `failed`.
 */
export const importJoinSchema = z.object({ importId: z.string().uuid() });

export const importRoom = (importId: string) => `import:${importId}`;

export function attachImportRealtime(io: SocketServer, deps: AppDeps, queue: ImportQueue): void {
  queue.events.on('progress', (view: ImportView) => io.to(importRoom(view.id)).emit('import:progress', view));
  queue.events.on('finished', (view: ImportView) => io.to(importRoom(view.id)).emit('import:finished', view));

  io.on('connection', (socket) => {
    socket.on('import:join', async (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      try {
        const parsed = importJoinSchema.safeParse(payload);
        if (!parsed.success) throw notFound('That import');
        const { importId } = parsed.data;
        authorize(socket.data.actor, 'import.list');
        const row = await loadImport(deps.db, importId);
        if (!row || !can(socket.data.actor, 'import.read', { userId: row.userId })) throw notFound('That import');
        // Join first, then read the state: an update sent in between arrives as an event, never lost.
        await socket.join(importRoom(importId));
        const live = queue.liveState(importId);
        const current = live ?? presentImport((await loadImport(deps.db, importId)) ?? row);
        ack({ ok: true, import: current });
      } catch (error) {
        const e = error instanceof AppError ? error : new AppError('internal', 'Something went wrong on our side; reload the page.');
        if (e.id === 'internal') deps.logger.error('import:join failed', { error: (error as Error)?.stack ?? String(error) });
        ack({ error: { id: e.id, message: e.message } });
      }
    });
    socket.on('import:leave', (payload: unknown) => {
      const parsed = importJoinSchema.safeParse(payload);
      if (parsed.success) void socket.leave(importRoom(parsed.data.importId));
    });
  });
}

import type { Server as SocketServer } from 'socket.io';
import { z } from 'zod';
import { AppError, notFound } from '../../core/errors.ts';
import { jobVersions, loadJob } from '../../core/jobs/job.queries.ts';
import { can } from '../../core/policy.ts';
import type { AppDeps } from '../app-deps.ts';
import type { JobRuntime } from '../jobs/job-runtime.ts';
import { loadJobView } from '../jobs/job-views.ts';

/**
 * The socket events of background jobs (the contract client/enhancers/job-progress.ts uses):
 * - client -> server `job:join` `{ jobId }`, ack `{ ok: true, job: JobView }` (the current state) or
 *   `{ error: { id, message } }`. Joining needs `job.read` on the job (anonymous sockets: `unauthenticated`;
 *   contributors: `forbidden`; an unknown id: `not_found`). `job:leave` `{ jobId }` leaves.
 * - server -> client `job:update` JobView, after each committed change: claimed, progress (at most every
 *   500 ms, the worker's progress interval), paused, resumed, cancelled, finished. Changes made by other processes
 *   (`menagerie worker`) are noticed by polling the watched jobs' `updated_at` every second.
 */
export const jobJoinSchema = z.object({ jobId: z.string().uuid() });

export const jobRoom = (jobId: string) => `job:${jobId}`;

/** How often jobs with watchers are checked for changes made outside this process. */
const POLL_MS = 1000;

export function attachJobRealtime(io: SocketServer, deps: AppDeps, runtime: JobRuntime): { close(): void } {
  const seen = new Map<string, number>();
  const queued = new Set<string>();

  const watched = () => [...io.of('/').adapter.rooms.keys()].filter((r) => r.startsWith('job:')).map((r) => r.slice(4));

  const broadcast = (jobId: string) => {
    if (queued.has(jobId) || !io.of('/').adapter.rooms.has(jobRoom(jobId))) return;
    queued.add(jobId);
    // Changes in one turn (a progress write and the end) go out as one update with the latest state.
    setImmediate(async () => {
      queued.delete(jobId);
      try {
        const view = await loadJobView(deps.db, jobId, runtime.handlers);
        if (!view) return;
        seen.set(jobId, Date.parse(view.updatedAt));
        io.to(jobRoom(jobId)).emit('job:update', view);
      } catch (error) {
        deps.logger.error('job broadcast failed', { jobId, error: String(error) });
      }
    });
  };
  runtime.events.on('changed', broadcast);

  const poll = setInterval(async () => {
    const ids = watched();
    for (const id of seen.keys()) if (!ids.includes(id)) seen.delete(id);
    if (ids.length === 0) return;
    try {
      for (const [id, version] of await jobVersions(deps.db, ids)) {
        if (seen.get(id) !== version) broadcast(id);
      }
    } catch {
      // The database is closing or briefly away: the next poll tries again.
    }
  }, POLL_MS);
  poll.unref();

  io.on('connection', (socket) => {
    socket.on('job:join', async (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      try {
        const parsed = jobJoinSchema.safeParse(payload);
        if (!parsed.success) throw notFound('That job');
        const actor = socket.data.actor;
        if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to follow a job.');
        const row = await loadJob(deps.db, parsed.data.jobId);
        if (!row) throw notFound('That job');
        if (!can(actor, 'job.read', row)) throw new AppError('forbidden', `Your role (${actor.role}) does not allow following jobs.`);
        // Join first, then read the state: an update sent in between arrives as an event, never lost.
        await socket.join(jobRoom(row.id));
        const view = await loadJobView(deps.db, row.id, runtime.handlers);
        if (view) seen.set(row.id, Date.parse(view.updatedAt));
        ack({ ok: true, job: view });
      } catch (error) {
        const e = error instanceof AppError ? error : new AppError('internal', 'Something went wrong on our side; reload the page.');
        if (e.id === 'internal') deps.logger.error('job:join failed', { error: (error as Error)?.stack ?? String(error) });
        ack({ error: { id: e.id, message: e.message } });
      }
    });
    socket.on('job:leave', (payload: unknown) => {
      const parsed = jobJoinSchema.safeParse(payload);
      if (parsed.success) void socket.leave(jobRoom(parsed.data.jobId));
    });
  });

  return {
    close() {
      clearInterval(poll);
      runtime.events.off('changed', broadcast);
    },
  };
}

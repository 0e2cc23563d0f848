import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { rowsOf } from '../core/db.ts';
import type { TagCount } from './observation.presenter.ts';
import { listTags } from './observation.queries.ts';

/**
 * Tags starting with `prefix` (case-insensitive), most used first, for autocomplete. The 500 most used tags are
 * cached (listTags), so typing costs nothing; only when they cannot fill the answer and more tags exist is the
 * database asked for rarer ones with that prefix.
 */
export async function suggestTags(ctx: Ctx, prefix: string, limit = 10): Promise<TagCount[]> {
  const wanted = prefix.trim().toLowerCase();
  const common = await listTags(ctx);
  const hits = common.filter((t) => t.tag.startsWith(wanted)).slice(0, limit);
  if (hits.length === limit || common.length < 500) return hits;
  const visible = ctx.actor.kind === 'user' ? sql`o.deleted_at IS NULL` : sql`o.deleted_at IS NULL AND o.visibility = 'public'`;
  const pattern = `${wanted.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = rowsOf<{ tag: string; n: number }>(
    await ctx.db.execute(sql`SELECT t.tag, count(*)::int AS n FROM observations o, unnest(o.tags) AS t(tag)
      WHERE ${visible} AND t.tag LIKE ${pattern} GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT ${limit}`),
  );
  return rows.map((r) => ({ tag: r.tag, count: Number(r.n) }));
}

/** The authorization facts of several observations at once (id -> ref); unknown ids are absent. */
export async function loadObservationRefs(ctx: Ctx, ids: readonly string[]) {
  const list = `{${ids.join(',')}}`;
  const rows = rowsOf<{ id: string; title: string; submitted_by: string; visibility: 'members' | 'public'; deleted_at: string | Date | null }>(
    await ctx.db.execute(sql`SELECT id, title, submitted_by, visibility, deleted_at FROM observations WHERE id = ANY(${list}::uuid[])`),
  );
  return new Map(
    rows.map((r) => [r.id, { title: r.title, ref: { submittedBy: r.submitted_by, visibility: r.visibility, deletedAt: r.deleted_at ? new Date(r.deleted_at) : null } }]),
  );
}

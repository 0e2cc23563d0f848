import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import type { Db } from '../core/db.ts';
import { authorize } from '../core/policy.ts';
import { imports } from './import.schema.ts';
import { presentImport, type ImportRow, type ImportView } from './import.presenter.ts';
import { observations } from './observation.schema.ts';
import { requireUser } from './observation-edit.ts';

/** One import's row, or null (the caller authorizes with `import.read`). */
export async function loadImport(db: Db, id: string): Promise<ImportRow | null> {
  const [row] = await db.select().from(imports).where(eq(imports.id, id));
  return row ?? null;
}

/** The actor's own imports, newest first. */
export async function listMyImports(ctx: Ctx, limit = 20): Promise<ImportView[]> {
  authorize(ctx.actor, 'import.list');
  const actor = requireUser(ctx, 'list your imports');
  const rows = await ctx.db.select().from(imports).where(eq(imports.userId, actor.id)).orderBy(desc(imports.createdAt)).limit(limit);
  return rows.map(presentImport);
}

/** Imports not finished: what a restart has to end. */
export async function listUnfinishedImports(db: Db): Promise<ImportRow[]> {
  return db.select().from(imports).where(inArray(imports.status, ['queued', 'running']));
}

/** Title of each of the given observations that is still live, in the order given (the import result's links). */
export async function observationTitles(db: Db, ids: string[]): Promise<{ id: string; title: string }[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: observations.id, title: observations.title })
    .from(observations)
    .where(and(inArray(observations.id, ids), isNull(observations.deletedAt)));
  const byId = new Map(rows.map((r) => [r.id, r.title]));
  return ids.flatMap((id) => (byId.has(id) ? [{ id, title: byId.get(id)! }] : []));
}

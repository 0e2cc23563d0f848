import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { invalid } from '../../core/errors.ts';
import { recordEvent } from '../../core/history.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { migrationSchema, type Migration } from '../ethogram-document.schema.ts';
import { behaviours, ethogramVersions } from '../ethogram.schema.ts';
import { actorIdOf, lockDraft, recordDraftEdit } from '../draft-edit.ts';
import type { VersionRow } from '../version-document.ts';
import { draftChanges } from './version-changes.ts';

export const setMigrationsInput = z
  .object({
    migrations: z.array(migrationSchema).max(1000),
    revision: z.number().int().positive().optional(),
  })
  .strict();
export type SetMigrationsInput = z.infer<typeof setMigrationsInput>;

/**
 * Replaces the migrations a draft declares. Each must fit the draft and the version it was opened from (codes
 * that exist where they should, one migration per behaviour): a misfit is a 422 at its path and nothing changes.
 * The previous list is kept as a revision of the draft, like every draft edit.
 */
export async function setMigrations(ctx: Ctx, versionId: string, input: SetMigrationsInput): Promise<VersionRow> {
  const migrations = parseOrThrow(z.array(migrationSchema).max(1000), input.migrations, 'The migrations') as Migration[];
  return inTransaction(ctx.db, async (tx) => {
    const version = await lockDraft(tx, versionId, input.revision);
    const rows = await tx.select().from(behaviours).where(eq(behaviours.versionId, versionId));
    const { diff } = await draftChanges(tx, version.ethogramId, rows, migrations);
    if (diff.problems.length > 0) {
      throw invalid(
        `${diff.problems.length === 1 ? 'A migration does' : 'Some migrations do'} not fit this draft: ${diff.problems.map((p) => p.message).join('; ')}.`,
        Object.fromEntries(diff.problems.map((p) => [p.path, p.message])),
      );
    }
    await recordDraftEdit(tx, ctx, version, 'migrations changed');
    const [saved] = await tx.update(ethogramVersions).set({ migrations }).where(eq(ethogramVersions.id, versionId)).returning();
    await recordEvent(tx, {
      type: 'ethogram_version.migrations_set',
      entityType: 'ethogram_version',
      entityId: versionId,
      actorId: actorIdOf(ctx.actor),
      payload: { version: version.number, migrations },
    });
    return saved!;
  });
}

import { eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { conflict } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import type { CreateEthogramInput } from './ethogram.input.ts';
import { ethograms, ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf, isUniqueViolation } from './draft-edit.ts';
import type { EthogramRow, VersionRow } from './version-document.ts';

const slugTaken = (slug: string) =>
  conflict(`An ethogram with the slug "${slug}" already exists. Choose another slug.`, { fields: { slug: `"${slug}" is already taken.` } });

/** Creates an ethogram with an empty draft version 1, ready for categories and behaviours. */
export async function createEthogram(ctx: Ctx, input: CreateEthogramInput): Promise<{ ethogram: EthogramRow; version: VersionRow }> {
  try {
    return await inTransaction(ctx.db, async (tx) => {
      const [taken] = await tx.select({ id: ethograms.id }).from(ethograms).where(eq(ethograms.slug, input.slug));
      if (taken) throw slugTaken(input.slug);
      const actorId = actorIdOf(ctx.actor);
      const now = ctx.now();
      const [ethogram] = await tx
        .insert(ethograms)
        .values({ slug: input.slug, name: input.name, description: input.description, createdBy: actorId, createdAt: now })
        .returning();
      const [version] = await tx
        .insert(ethogramVersions)
        .values({ ethogramId: ethogram!.id, number: 1, status: 'draft', createdBy: actorId, createdAt: now })
        .returning();
      await recordEvent(tx, { type: 'ethogram.created', entityType: 'ethogram', entityId: ethogram!.id, actorId, payload: { slug: input.slug } });
      return { ethogram: ethogram!, version: version! };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw slugTaken(input.slug);
    throw err;
  }
}

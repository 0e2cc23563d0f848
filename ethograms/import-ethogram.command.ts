import { and, desc, eq, sql } from 'drizzle-orm';
import { revisions } from '../core/core.schema.ts';
import type { Ctx } from '../core/context.ts';
import { inTransaction, type Db } from '../core/db.ts';
import { forgetDefaultVersion } from './default-version.ts';
import { conflict } from '../core/errors.ts';
import { recordEvent, recordRevision } from '../core/history.ts';
import type { EthogramDocument } from './ethogram-document.schema.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import { publishLockedDraft } from './publish-version.command.ts';
import { actorIdOf, isUniqueViolation } from './draft-edit.ts';
import type { EthogramRow, VersionRow } from './version-document.ts';

export interface ImportEthogramProps {
  /** A document already parsed with `ethogramDocumentSchema` (so every cross-reference holds). */
  document: EthogramDocument;
  /** Publish the imported version at once instead of leaving it a draft. */
  publish: boolean;
  /** When the slug exists: add the document as the ethogram's next version (else the import is refused). */
  newVersion: boolean;
}

export interface ImportedEthogram {
  ethogram: EthogramRow;
  version: VersionRow;
  behaviours: number;
  /** True when the ethogram itself is new; false when a version was added to an existing one. */
  created: boolean;
}

/**
 * Imports a validated document: a new ethogram with version 1, or (asked for explicitly) the next version of
 * the ethogram with that slug. The version number in the document is a label from its source; here versions
 * are numbered after the ones that exist. Ethogram, version, behaviours and the event commit together.
 */
export async function importEthogram(ctx: Ctx, props: ImportEthogramProps): Promise<ImportedEthogram> {
  const { document } = props;
  try {
    const imported = await inTransaction(ctx.db, async (tx) => {
      const [existing] = await tx.select().from(ethograms).where(eq(ethograms.slug, document.slug)).for('update');
      if (existing && !props.newVersion) {
        throw conflict(
          `An ethogram with the slug "${document.slug}" already exists. Import as a new version of it, or change the slug in the document.`,
          { fields: { slug: `"${document.slug}" is already taken.` } },
        );
      }
      const ethogram = existing ? await refreshEthogram(tx, ctx, existing, document) : await insertEthogram(tx, ctx, document);
      const number = existing ? await nextVersionNumber(tx, existing) : 1;
      const now = ctx.now();
      // A new version of an existing ethogram is published through the same checks as any draft (migrations for
      // changes that affect codings), so it is written as a draft first.
      const publishNow = props.publish && !existing;
      const latest = existing ? await latestVersionId(tx, existing.id) : null;
      let [version] = await tx
        .insert(ethogramVersions)
        .values({
          ethogramId: ethogram.id,
          number,
          status: publishNow ? 'published' : 'draft',
          notes: document.version.notes ?? '',
          categories: document.categories,
          modifierSets: document.modifierSets,
          exclusiveGroups: document.exclusiveGroups,
          baseVersionId: latest,
          migrations: document.migrations,
          createdBy: actorIdOf(ctx.actor),
          createdAt: now,
          publishedAt: publishNow ? now : null,
        })
        .returning();
      await tx.insert(behaviours).values(
        document.behaviours.map((b, position) => ({ ...b, versionId: version!.id, position })),
      );
      if (props.publish && existing) version = await publishLockedDraft(tx, ctx, version!);
      await recordEvent(tx, {
        type: 'ethogram.imported',
        entityType: 'ethogram',
        entityId: ethogram.id,
        actorId: actorIdOf(ctx.actor),
        payload: { slug: ethogram.slug, version: number, status: version!.status, behaviours: document.behaviours.length, created: !existing },
      });
      return { ethogram, version: version!, behaviours: document.behaviours.length, created: !existing };
    });
    if (props.publish) forgetDefaultVersion();
    return imported;
  } catch (err) {
    // Two imports of a new slug at once: the loser meets the unique index instead of the row lock.
    if (isUniqueViolation(err)) {
      throw conflict(`An ethogram with the slug "${document.slug}" was created at the same moment. Import again as a new version of it, or change the slug.`, {
        fields: { slug: `"${document.slug}" is already taken.` },
      });
    }
    throw err;
  }
}

async function insertEthogram(tx: Db, ctx: Ctx, document: EthogramDocument): Promise<EthogramRow> {
  const [row] = await tx
    .insert(ethograms)
    .values({ slug: document.slug, name: document.name, description: document.description, createdBy: actorIdOf(ctx.actor), createdAt: ctx.now() })
    .returning();
  return row!;
}

/** The next version takes the document's name and description; the previous ones are kept as a revision. */
async function refreshEthogram(tx: Db, ctx: Ctx, existing: EthogramRow, document: EthogramDocument): Promise<EthogramRow> {
  if (existing.name === document.name && existing.description === document.description) return existing;
  const [kept] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(revisions)
    .where(and(eq(revisions.entityType, 'ethogram'), eq(revisions.entityId, existing.id)));
  await recordRevision(tx, {
    entityType: 'ethogram',
    entityId: existing.id,
    revision: (kept?.count ?? 0) + 1,
    snapshot: { slug: existing.slug, name: existing.name, description: existing.description },
    actorId: actorIdOf(ctx.actor),
    reason: 'imported a new version',
  });
  const [row] = await tx.update(ethograms).set({ name: document.name, description: document.description }).where(eq(ethograms.id, existing.id)).returning();
  return row!;
}

/**
 * Versions are numbered in order and the draft, if any, is always the newest: a new version cannot be slotted
 * in while a draft is open.
 */
async function nextVersionNumber(tx: Db, ethogram: EthogramRow): Promise<number> {
  const versions = await tx.select({ number: ethogramVersions.number, status: ethogramVersions.status }).from(ethogramVersions).where(eq(ethogramVersions.ethogramId, ethogram.id));
  const draft = versions.find((v) => v.status === 'draft');
  if (draft) {
    throw conflict(`"${ethogram.slug}" has a draft (version ${draft.number}). Publish or discard that draft before importing a new version.`, { draft: draft.number });
  }
  return Math.max(0, ...versions.map((v) => v.number)) + 1;
}

/** The newest version of an ethogram (the base a new version is compared with), or null. */
async function latestVersionId(tx: Db, ethogramId: string): Promise<string | null> {
  const [row] = await tx
    .select({ id: ethogramVersions.id })
    .from(ethogramVersions)
    .where(eq(ethogramVersions.ethogramId, ethogramId))
    .orderBy(desc(ethogramVersions.number))
    .limit(1);
  return row?.id ?? null;
}

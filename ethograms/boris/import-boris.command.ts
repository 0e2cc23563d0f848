import { AppError } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { recordEvent } from '../../core/history.ts';
import { actorIdOf } from '../draft-edit.ts';
import { importEthogram, type ImportedEthogram } from '../import-ethogram.command.ts';
import { BORIS_IMPORTED_EVENT } from './boris-extras.queries.ts';
import { importBorisProject, type BorisImport } from './boris-import.ts';

export interface ImportBorisProps {
  /** The project file's JSON, already decoded (see `parseBorisFile`). */
  project: unknown;
  publish: boolean;
  newVersion: boolean;
  /** The ethogram's slug, instead of one made from the project name. */
  slug?: string | undefined;
}

export type ImportedBorisEthogram = ImportedEthogram & Pick<BorisImport, 'notes' | 'missing'>;

/**
 * Imports a BORIS project as an ethogram version through the ordinary import (same checks, same rows), and
 * records in the same transaction what the BORIS file held that the version cannot (the `boris` extras), so that
 * exporting this version for BORIS gives it back. BORIS has no inclusion criteria or examples: such a version
 * is a draft that lists them as problems; publishing it at import is refused, naming each behaviour.
 */
export async function importBorisEthogram(ctx: Ctx, props: ImportBorisProps): Promise<ImportedBorisEthogram> {
  // One instant for the version's creation and for the export the extras are measured against.
  const now = ctx.now();
  const read = importBorisProject(props.project, { slug: props.slug, date: now });
  if (props.publish && read.missing.length > 0) {
    const fields = Object.fromEntries(read.missing.map((m) => [`behaviours.${m.code}`, `needs ${m.fields.join(', ')} (BORIS has no place for them)`]));
    throw new AppError(
      'validation_failed',
      `This BORIS project cannot be published as it is imported: ${read.missing.length} behaviour(s) lack what BORIS does not record (inclusion criteria, positive examples, definitions of 10+ characters). Import it as a draft, complete them, then publish. Nothing was imported.`,
      { fields },
    );
  }
  return inTransaction(ctx.db, async (tx) => {
    const imported = await importEthogram({ ...ctx, db: tx, now: () => now }, { document: read.document, publish: props.publish, newVersion: props.newVersion });
    await recordEvent(tx, {
      type: BORIS_IMPORTED_EVENT,
      entityType: 'ethogram',
      entityId: imported.ethogram.id,
      actorId: actorIdOf(ctx.actor),
      payload: { versionId: imported.version.id, version: imported.version.number, extras: read.extras, notes: read.notes, missing: read.missing },
    });
    return { ...imported, notes: read.notes, missing: read.missing };
  });
}

import * as z from 'zod';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { recordEvent } from '../core/history.ts';
import { authorize } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import { importFormats } from './importers/index.ts';
import { imports } from './import.schema.ts';
import { presentImport, type ImportView } from './import.presenter.ts';
import { requireUser } from './observation-edit.ts';

/** What an upload says about itself: its name, its size once received, and the format asked for (none: detect). */
export const importUploadSchema = z.object({
  fileName: z
    .string()
    .trim()
    .min(1, 'Name the file (fileName)')
    .max(255, 'The file name is longer than 255 characters')
    // A path from a browser or a client is reduced to its last segment: only the name means anything here.
    .transform((name) => name.split(/[\\/]/).pop() || name),
  byteSize: z.number().int().min(0),
  format: z.enum(importFormats, { error: `The format must be one of: auto, ${importFormats.join(', ')}` }).nullable(),
});
export type ImportUpload = z.input<typeof importUploadSchema>;

/**
 * Records an uploaded file as an import waiting its turn (status `queued`) with its `import.created` event, in one
 * transaction. The file itself is the caller's (a temporary file the import queue reads and then deletes).
 */
export async function createImport(ctx: Ctx, upload: ImportUpload): Promise<ImportView> {
  authorize(ctx.actor, 'import.create');
  const actor = requireUser(ctx, 'import a file');
  const input = parseOrThrow(importUploadSchema, upload, 'The upload');
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(imports)
      .values({ userId: actor.id, fileName: input.fileName, byteSize: input.byteSize, requestedFormat: input.format, createdAt: ctx.now() })
      .returning();
    await recordEvent(tx, {
      type: 'import.created',
      entityType: 'import',
      entityId: row!.id,
      actorId: actor.id,
      payload: { fileName: input.fileName, byteSize: input.byteSize, requestedFormat: input.format },
    });
    return presentImport(row!);
  });
}

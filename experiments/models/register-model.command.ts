import path from 'node:path';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, rowsOf } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import { recordEvent } from '../../core/history.ts';
import { authorize } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { checkModelFolder, shapeOf } from './model-folder.ts';
import { models } from './model.schema.ts';

export const registerModelSchema = z
  .object({
    path: z
      .string()
      .trim()
      .min(1, 'give the model folder’s path')
      .max(1000, 'a path is at most 1000 characters')
      .refine((p) => path.isAbsolute(p), 'give an absolute path (it is read by the server and by workers)'),
    name: z.string().trim().min(1, 'give the model a name people will recognise').max(120, 'a name is at most 120 characters'),
  })
  .strict();
export type RegisterModelInput = z.input<typeof registerModelSchema>;

/**
 * Registers a model folder (admins): the engine checks it (config, weights readable and matching the config,
 * tokenizer fitting the vocabulary) and hashes the weights; a folder that fails is refused with the reason and
 * nothing is stored. One folder and one name are registered once.
 */
export async function registerModel(ctx: Ctx, input: unknown): Promise<{ id: string }> {
  authorize(ctx.actor, 'model.register');
  const actorId = (ctx.actor as { id: string }).id;
  const data = parseOrThrow(registerModelSchema, input, 'The model');
  const dir = path.resolve(data.path);
  const clash = rowsOf<{ name: string; path: string }>(
    await ctx.db.execute(sql`SELECT name, path FROM models WHERE path = ${dir} OR lower(name) = lower(${data.name})`),
  );
  for (const c of clash) {
    if (c.path === dir) throw new AppError('conflict', `That folder is already registered as “${c.name}”.`, { fields: { path: `already registered as “${c.name}”` } });
    throw new AppError('conflict', `A model is already called “${c.name}”: choose another name.`, { fields: { name: 'that name is taken' } });
  }
  const report = await checkModelFolder(dir);
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(models)
      .values({
        name: data.name,
        path: dir,
        architecture: report.architecture,
        parameters: report.parameters,
        weightBytes: report.weightFileBytes,
        weightsSha256: report.weightsSha256,
        shape: shapeOf(report),
        status: 'ready',
        checkedAt: now,
        registeredBy: actorId,
        registeredAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: models.id });
    // Someone registered the same folder or name while this one was being hashed.
    if (!row) throw new AppError('conflict', 'That folder or name was registered a moment ago: reload the models page.');
    await recordEvent(tx, { type: 'model.registered', entityType: 'model', entityId: row.id, actorId, payload: { name: data.name, path: dir, weightsSha256: report.weightsSha256 } });
    return { id: row.id };
  });
}

import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.ts';
import { notFound } from '../../core/errors.ts';
import { models } from './model.schema.ts';

export type ModelRow = typeof models.$inferSelect;

/** Every registered model, by name. */
export async function listModels(db: Db): Promise<ModelRow[]> {
  return db.select().from(models).orderBy(asc(sql`lower(${models.name})`));
}

export async function findModel(db: Db, id: string): Promise<ModelRow | null> {
  const [row] = await db.select().from(models).where(eq(models.id, id));
  return row ?? null;
}

export async function requireModel(db: Db, id: string): Promise<ModelRow> {
  const row = await findModel(db, id);
  if (!row) throw notFound('That model');
  return row;
}

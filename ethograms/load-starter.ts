import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { anonymous } from '../accounts/actor.ts';
import { inTransaction, type Db } from '../core/db.ts';
import { parseOrThrow } from '../core/validation.ts';
import { ethogramDocumentSchema } from './ethogram-document.schema.ts';
import { ethograms } from './ethogram.schema.ts';
import { importEthogram } from './import-ethogram.command.ts';

/** The shipped starter ethogram, as data. */
export const STARTER_PATH = path.join(import.meta.dirname, 'starter', 'llm-starter.ethogram.json');

/** Serialises starter loading across processes that boot at the same time against one database. */
const STARTER_LOCK = 7302;

/**
 * Loads the shipped starter ethogram once, through the same import command as any document, as published
 * version 1. Does nothing (returns null) when an ethogram with its slug exists; two processes booting at once
 * queue on an advisory lock, so only the first loads it.
 */
export async function loadStarterEthogram(db: Db, now: () => Date): Promise<{ behaviours: number } | null> {
  const document = parseOrThrow(ethogramDocumentSchema, JSON.parse(readFileSync(STARTER_PATH, 'utf8')), 'The starter ethogram');
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${STARTER_LOCK})`);
    const [existing] = await tx.select({ id: ethograms.id }).from(ethograms).where(eq(ethograms.slug, document.slug));
    if (existing) return null;
    const imported = await importEthogram({ db: tx, actor: anonymous, now }, { document, publish: true, newVersion: false });
    return { behaviours: imported.behaviours };
  });
}

import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';
import { SEARCH_TEXT_CAP, transcriptSearchTextSql } from '../observation-text.ts';
import { partText, type Transcript } from '../transcript.schema.ts';
import { fingerprint, fingerprintJoined, type Fingerprint } from './minhash.ts';

/** A fingerprint as PostgreSQL int[] literals: empty arrays mean "fingerprinted, no words". */
export function fingerprintLiterals(print: Fingerprint | null): { signature: string; bands: string } {
  return print ? { signature: `{${print.signature.join(',')}}`, bands: `{${print.bands.join(',')}}` } : { signature: '{}', bands: '{}' };
}

/**
 * A transcript's fingerprint: of the same text the search index reads (transcriptSearchText here,
 * transcriptSearchTextSql in the database), read part by part rather than joined first: on the ingestion path
 * that string (10 KB or so per transcript) would be made only to be scanned once.
 */
export function transcriptFingerprint(transcript: Transcript): Fingerprint | null {
  const texts: string[] = [];
  for (const message of transcript.messages) {
    for (const part of message.parts) {
      const text = partText(part);
      if (text) texts.push(text);
    }
  }
  return fingerprintJoined(texts, SEARCH_TEXT_CAP);
}

/** The SET clause writing a fingerprint's columns. */
export function fingerprintColumnsSql(print: Fingerprint | null) {
  const { signature, bands } = fingerprintLiterals(print);
  return sql`minhash = ${signature}::int[], minhash_bands = ${bands}::int[]`;
}

/**
 * Fingerprints up to `batchSize` observations that have none yet and wait for no indexing (rows whose fingerprint
 * was cleared, as by migration 0012, or written by plain SQL), oldest first, and returns how many. Rows waiting for
 * the search indexer are left to it: it fingerprints them in the UPDATE that indexes them, where a second UPDATE
 * here would give each a second row version. The text is extracted in the database (as for the search index),
 * hashed here, and written back only if the observation is still at the revision that was read: an edit in between
 * fingerprinted it already. Several processes may run this side by side; at worst two compute the same fingerprint.
 */
export async function fingerprintPending(db: Db, batchSize = 100): Promise<number> {
  const rows = rowsOf<{ id: string; revision: number; text: string }>(
    await db.execute(sql`SELECT id, revision, ${transcriptSearchTextSql(sql`transcript`)} AS text FROM observations
      WHERE minhash IS NULL AND deleted_at IS NULL AND NOT search_pending ORDER BY created_at LIMIT ${batchSize}`),
  );
  if (rows.length === 0) return 0;
  const ids: string[] = [];
  const revisions: number[] = [];
  const signatures: string[] = [];
  const bands: string[] = [];
  for (const row of rows) {
    const literals = fingerprintLiterals(fingerprint(row.text ?? ''));
    ids.push(row.id);
    revisions.push(Number(row.revision));
    signatures.push(literals.signature);
    bands.push(literals.bands);
  }
  // One statement for the batch: the arrays travel as text and are unnested side by side.
  await db.execute(sql`UPDATE observations AS o SET minhash = f.signature::int[], minhash_bands = f.bands::int[]
    FROM unnest(${`{${ids.join(',')}}`}::uuid[], ${`{${revisions.join(',')}}`}::int[], ${fingerprintTextArray(signatures)}::text[], ${fingerprintTextArray(bands)}::text[])
      AS f(id, revision, signature, bands)
    WHERE o.id = f.id AND o.revision = f.revision AND o.minhash IS NULL`);
  return rows.length;
}

/**
 * A PostgreSQL text[] literal of fingerprint literals (strings of digits, commas, minus signs and braces, which
 * need no escaping) or NULLs.
 */
export function fingerprintTextArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v}"`)).join(',')}}`;
}

import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';
import { followKey, loadLineage } from './lineage.ts';

/** How a coding reads under another version of its ethogram. */
export type AsOfStatus = 'same' | 'carried' | 'recoded' | 'awaiting-recode' | 'no-candidate' | 'retired' | 'unmapped' | 'not-in-version';

export interface CodingAsOf {
  codingId: string;
  madeUnder: { number: number; code: string };
  /** The code under the requested version, or null when the coding has no code there (see `status`). */
  code: string | null;
  status: AsOfStatus;
  note: string;
}

interface Row { id: string; version_id: string; key: string; code: string }

/**
 * The live codings of one observation made under any version of an ethogram, read as of version `number`:
 * forward through each version's migrations (renames, moves and merges carry; a split or recoding redefinition
 * stops at the recode queue, whose decision is reported), or backward by key for codings made under a later
 * version. The codings themselves never change.
 */
export async function codingsAsOf(db: Db, observationId: string, ethogramId: string, number: number): Promise<CodingAsOf[] | null> {
  const lineage = await loadLineage(db, ethogramId);
  const target = lineage.findIndex((s) => s.number === number);
  if (target < 0) return null;
  const rows = rowsOf<Row>(
    await db.execute(sql`SELECT c.id, c.ethogram_version_id AS version_id, b.key, b.code FROM codings c
      JOIN behaviours b ON b.id = c.behaviour_id JOIN ethogram_versions v ON v.id = c.ethogram_version_id
      WHERE c.observation_id = ${observationId}::uuid AND c.withdrawn_at IS NULL AND v.ethogram_id = ${ethogramId}::uuid
      ORDER BY c.created_at, c.id`),
  );
  const decisions = rowsOf<{ coding_id: string; version_id: string; status: string; decision: string | null; chosen_code: string | null }>(
    rows.length
      ? await db.execute(sql`SELECT coding_id, version_id, status, decision, chosen_code FROM recode_items
          WHERE coding_id IN (${sql.join(rows.map((r) => sql`${r.id}::uuid`), sql`, `)})`)
      : { rows: [] },
  );
  const indexOf = new Map(lineage.map((s, i) => [s.versionId, i]));
  const out: CodingAsOf[] = [];
  for (const r of rows) {
    const made = indexOf.get(r.version_id);
    if (made === undefined) continue; // made under a draft: not part of the published line
    const madeUnder = { number: lineage[made]!.number, code: r.code };
    if (made === target) {
      out.push({ codingId: r.id, madeUnder, code: r.code, status: 'same', note: '' });
      continue;
    }
    if (made > target) {
      const code = lineage[target]!.codeOfKey.get(r.key) ?? null;
      out.push(
        code
          ? { codingId: r.id, madeUnder, code, status: 'carried', note: `Made under version ${madeUnder.number} as ${r.code}; version ${number} has the same behaviour as ${code}.` }
          : { codingId: r.id, madeUnder, code: null, status: 'not-in-version', note: `${r.code} (version ${madeUnder.number}) has no counterpart in version ${number}.` },
      );
      continue;
    }
    const followed = followKey(lineage, made, target, r.key);
    if ('key' in followed) {
      const code = lineage[target]!.codeOfKey.get(followed.key) ?? null;
      out.push({ codingId: r.id, madeUnder, code, status: code === r.code ? 'same' : 'carried', note: code === r.code ? '' : `Made under version ${madeUnder.number} as ${r.code}.` });
      continue;
    }
    const step = lineage[followed.stoppedAt]!;
    if (followed.fate.fate === 'recode') {
      const d = decisions.find((x) => x.coding_id === r.id && x.version_id === step.versionId);
      if (d?.status === 'resolved' && d.decision === 'recoded') {
        out.push({ codingId: r.id, madeUnder, code: null, status: 'recoded', note: `Recoded as ${d.chosen_code} in version ${step.number}: the new coding stands for it.` });
      } else if (d?.status === 'resolved') {
        out.push({ codingId: r.id, madeUnder, code: null, status: 'no-candidate', note: `Version ${step.number} ${followed.fate.reason === 'split' ? 'split' : 'redefined'} ${r.code}; a researcher decided none of ${followed.fate.candidates.join(', ')} applies.` });
      } else {
        out.push({ codingId: r.id, madeUnder, code: null, status: 'awaiting-recode', note: `Version ${step.number} ${followed.fate.reason === 'split' ? 'split' : 'redefined'} ${r.code}: waiting in the recode queue (${followed.fate.candidates.join(' or ')}).` });
      }
    } else if (followed.fate.fate === 'retired') {
      out.push({ codingId: r.id, madeUnder, code: null, status: 'retired', note: `${r.code} was retired in version ${step.number}: no equivalent.` });
    } else {
      out.push({ codingId: r.id, madeUnder, code: null, status: 'unmapped', note: `${r.code} has no counterpart in version ${step.number}.` });
    }
  }
  return out;
}

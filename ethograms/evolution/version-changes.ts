import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';
import type { Migration } from '../ethogram-document.schema.ts';
import { behaviours } from '../ethogram.schema.ts';
import type { BehaviourRow } from '../version-document.ts';
import { breakingChanges, diffVersions, type BreakingChange, type VersionDiff } from './diff.ts';
import { countByTargetKey, diffBehaviour, keysReaching, loadLineage, type Lineage } from './lineage.ts';

export interface VersionChanges {
  lineage: Lineage;
  /** The version the draft was opened from (the newest that is not a draft), with its behaviours. */
  base: { versionId: string; number: number; rows: BehaviourRow[] } | null;
  diff: VersionDiff;
  breaking: BreakingChange[];
  /** Live codings resolving to each base key. */
  codedByBaseKey: Map<string, number>;
}

/** Live codings of these versions, grouped by version and behaviour key (a few rows per behaviour, however many codings). */
export async function codedKeyCounts(db: Db, versionIds: string[]): Promise<{ versionId: string; key: string; n: number }[]> {
  if (versionIds.length === 0) return [];
  const result = await db.execute(sql`
    SELECT c.ethogram_version_id AS "versionId", b.key, count(*)::int AS n
    FROM codings c JOIN behaviours b ON b.id = c.behaviour_id
    WHERE c.ethogram_version_id IN (${sql.join(versionIds.map((id) => sql`${id}::uuid`), sql`, `)}) AND c.withdrawn_at IS NULL
    GROUP BY 1, 2`);
  return rowsOf<{ versionId: string; key: string; n: number }>(result);
}

/**
 * What a draft changes against the version it was opened from, with the migrations it declares, and which
 * changes would reinterpret existing codings. The same answer drives the diff page, the API and publishing.
 */
export async function draftChanges(
  db: Db,
  ethogramId: string,
  draftRows: readonly BehaviourRow[],
  migrations: readonly Migration[],
  /** For a version already published: compare it with the versions before it rather than with the newest. */
  publishedNumber?: number,
): Promise<VersionChanges> {
  const all = await loadLineage(db, ethogramId);
  const lineage = publishedNumber === undefined ? all : all.filter((s) => s.number < publishedNumber);
  const baseStep = lineage.at(-1);
  const next = draftRows.map(diffBehaviour);
  if (!baseStep) {
    return { lineage, base: null, diff: diffVersions([], next, migrations), breaking: [], codedByBaseKey: new Map() };
  }
  const baseRows = await db.select().from(behaviours).where(sql`${behaviours.versionId} = ${baseStep.versionId}::uuid`);
  const diff = diffVersions(baseRows.map(diffBehaviour), next, migrations);
  const counts = await codedKeyCounts(db, lineage.map((s) => s.versionId));
  const codedByBaseKey = countByTargetKey(lineage, lineage.length - 1, counts);
  return {
    lineage,
    base: { versionId: baseStep.versionId, number: baseStep.number, rows: baseRows },
    diff,
    breaking: breakingChanges(diff, migrations, codedByBaseKey),
    codedByBaseKey,
  };
}

/**
 * Puts every live coding that a split or a recoding redefinition leaves undecided into the recode queue of the
 * newly published version (one INSERT … SELECT per earlier version, however many codings). Returns how many.
 */
export async function enqueueRecodes(db: Db, changes: VersionChanges, ethogramId: string, publishedVersionId: string, now: Date): Promise<number> {
  if (!changes.base) return 0;
  const target = changes.lineage.length - 1;
  let queued = 0;
  for (const [baseKey, fate] of changes.diff.fates) {
    if (fate.fate !== 'recode') continue;
    const fromCode = changes.lineage[target]!.codeOfKey.get(baseKey) ?? baseKey;
    for (const { versionId, keys } of keysReaching(changes.lineage, target, baseKey)) {
      const result = await db.execute(sql`
        INSERT INTO recode_items (ethogram_id, version_id, coding_id, observation_id, reason, from_code, candidates, created_at)
        SELECT ${ethogramId}::uuid, ${publishedVersionId}::uuid, c.id, c.observation_id, ${fate.reason}, ${fromCode},
          ${JSON.stringify(fate.candidates)}::jsonb, ${now.toISOString()}::timestamptz
        FROM codings c JOIN behaviours b ON b.id = c.behaviour_id
        WHERE c.ethogram_version_id = ${versionId}::uuid AND c.withdrawn_at IS NULL
          AND b.key IN (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})
        ON CONFLICT DO NOTHING
        RETURNING 1`);
      queued += rowsOf(result).length;
    }
  }
  return queued;
}

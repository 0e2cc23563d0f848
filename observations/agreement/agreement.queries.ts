import { sql, type SQL } from 'drizzle-orm';
import { invalid } from '../../core/errors.ts';
import { rowsOf, type Db } from '../../core/db.ts';
import type { AgreementFilters } from './agreement-filters.ts';

/** The version an agreement report is about, as people name it. */
export interface AgreementVersion { id: string; number: number; status: string; slug: string; ethogramName: string }
export interface AgreementBehaviour { id: string; code: string; name: string }
export interface AgreementCoder { id: string; name: string }
export interface AgreementClassifier { id: string; name: string; kind: string }

/** One human coding, or one classifier proposal, of the version (withdrawn ones are never loaded). */
export interface CodingRow {
  observationId: string;
  behaviourId: string;
  /** The person for human codings; null for classifier proposals. */
  coderId: string | null;
  classifierId: string | null;
  jobId: string | null;
  messageId: string | null;
  partIndex: number | null;
  charStart: number | null;
  charEnd: number | null;
}

/** A live (not withdrawn) coding assignment: open while `submitted` is false. */
export interface AssignmentRow { observationId: string; coderId: string; submitted: boolean }

/** An observation a classification job finished (proposing something or nothing), and which classifier ran. */
export interface ClassifiedRow { observationId: string; jobId: string; classifierId: string | null }

/** Everything the agreement figures are computed from: the version's raw ratings under the filters. */
export interface AgreementData {
  version: AgreementVersion;
  /** The behaviours asked for (all the version's when no behaviour filter), in catalogue order. */
  behaviours: AgreementBehaviour[];
  behaviourFiltered: boolean;
  /** The people whose ratings count: the coder filter, else everyone who coded under the version. */
  coders: AgreementCoder[];
  /** Everyone who coded under the version (and any filtered coder), for the filter form. */
  allCoders: AgreementCoder[];
  /** True when the coders were chosen by the filter (then they all count, even one who rated nothing here). */
  coderFiltered: boolean;
  classifiers: AgreementClassifier[];
  codings: CodingRow[];
  assignments: AssignmentRow[];
  classified: ClassifiedRow[];
}

/**
 * Loads the rating data of one ethogram version under the filters, in two statements: the version with its
 * behaviours, coders and classifiers (small lookups, one round trip), then one UNION ALL of the codings that count
 * (people's accepted manual or live codings; every classifier proposal whatever its review status), the live
 * assignments, and the observations classification jobs finished. Withdrawn codings and assignments and deleted
 * observations never count. Unknown versions, behaviour codes or coders are input problems (422), not empty reports.
 */
export async function loadAgreementData(db: Db, filters: AgreementFilters): Promise<AgreementData> {
  const lookups = rowsOf<{ kind: string; id: string; a: string | null; b: string | null; c: string | null; n: number | null }>(
    await db.execute(sql`
      SELECT 'version' AS kind, v.id::text AS id, e.slug AS a, e.name AS b, v.status::text AS c, v.number AS n
        FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id WHERE v.id = ${filters.version}::uuid
      UNION ALL
      SELECT 'behaviour', b.id::text, b.code, b.name, NULL, b.position FROM behaviours b WHERE b.version_id = ${filters.version}::uuid
      UNION ALL
      SELECT 'coder', u.id::text, u.display_name, NULL, NULL, NULL FROM users u
        WHERE u.id IN (SELECT DISTINCT c.coder_id FROM codings c WHERE c.ethogram_version_id = ${filters.version}::uuid
          AND c.classifier_id IS NULL AND c.method IN ('manual', 'live') AND c.status = 'accepted' AND c.withdrawn_at IS NULL)
        ${filters.coders?.length ? sql`OR u.id IN (${sql.join(filters.coders.map((id) => sql`${id}::uuid`), sql`, `)})` : sql``}
      UNION ALL
      SELECT 'classifier', k.id::text, k.name, k.kind::text, NULL, NULL FROM classifiers k
        WHERE k.id IN (SELECT DISTINCT c.classifier_id FROM codings c WHERE c.ethogram_version_id = ${filters.version}::uuid
          AND c.classifier_id IS NOT NULL AND c.withdrawn_at IS NULL)`),
  );
  const versionRow = lookups.find((r) => r.kind === 'version');
  if (!versionRow) throw invalid('There is no ethogram version with that id: choose one from the list.', { version: 'No such ethogram version.' });
  const version: AgreementVersion = { id: versionRow.id, slug: versionRow.a ?? '', ethogramName: versionRow.b ?? '', status: versionRow.c ?? '', number: Number(versionRow.n) };
  const allBehaviours = lookups
    .filter((r) => r.kind === 'behaviour')
    .sort((x, y) => Number(x.n) - Number(y.n) || (x.a ?? '').localeCompare(y.a ?? ''))
    .map((r) => ({ id: r.id, code: r.a ?? '', name: r.b ?? '' }));
  let behaviours = allBehaviours;
  if (filters.behaviours?.length) {
    const wanted = new Set(filters.behaviours);
    const unknown = filters.behaviours.filter((code) => !allBehaviours.some((b) => b.code === code));
    if (unknown.length) throw invalid(`This version has no behaviour coded ${unknown.join(', ')}.`, { behaviours: `Unknown behaviour code: ${unknown.join(', ')}.` });
    behaviours = allBehaviours.filter((b) => wanted.has(b.code));
  }
  const allCoders = lookups.filter((r) => r.kind === 'coder').map((r) => ({ id: r.id, name: r.a ?? '' })).sort((x, y) => x.name.localeCompare(y.name) || x.id.localeCompare(y.id));
  if (filters.coders?.length) {
    const unknown = filters.coders.filter((id) => !allCoders.some((c) => c.id === id));
    if (unknown.length) throw invalid(`No user has the id ${unknown.join(', ')}.`, { coders: 'Unknown coder.' });
  }
  const coders = filters.coders?.length ? allCoders.filter((c) => filters.coders!.includes(c.id)) : allCoders;
  const classifiers = lookups.filter((r) => r.kind === 'classifier').map((r) => ({ id: r.id, name: r.a ?? '', kind: r.b ?? '' })).sort((x, y) => x.name.localeCompare(y.name));

  // Six narrow columns: PGlite hands rows across a worker thread, where every column of 12,500 rows costs time.
  const raw = rowsOf<{ source: 'human' | 'machine' | 'open' | 'submitted' | 'classified'; o: string; b: string | null; who: string | null; job: string | null; span: string | null }>(
    await db.execute(ratingsStatement(filters)),
  );
  const data: AgreementData = { version, behaviours, behaviourFiltered: !!filters.behaviours?.length, coders, allCoders, coderFiltered: !!filters.coders?.length, classifiers, codings: [], assignments: [], classified: [] };
  for (const r of raw) {
    if (r.source === 'human' || r.source === 'machine') {
      let messageId: string | null = null;
      let partIndex: number | null = null;
      let charStart: number | null = null;
      let charEnd: number | null = null;
      if (r.span !== null) {
        // part:start:end:message id (the message id last: it may hold colons).
        const [part, start, end] = r.span.split(':', 3);
        partIndex = Number(part);
        charStart = Number(start);
        charEnd = Number(end);
        messageId = r.span.slice(part!.length + start!.length + end!.length + 3);
      }
      const human = r.source === 'human';
      data.codings.push({ observationId: r.o, behaviourId: r.b!, coderId: human ? r.who : null, classifierId: human ? null : r.who, jobId: r.job, messageId, partIndex, charStart, charEnd });
    } else if (r.source === 'classified') {
      data.classified.push({ observationId: r.o, jobId: r.job!, classifierId: r.who });
    } else {
      data.assignments.push({ observationId: r.o, coderId: r.who!, submitted: r.source === 'submitted' });
    }
  }
  return data;
}

/** The one statement that reads the ratings: codings, assignments and classified observations, filtered alike. */
function ratingsStatement(f: AgreementFilters): SQL {
  const observationFilter = sql.join(
    [
      sql`o.deleted_at IS NULL`,
      f.from ? sql`o.observed_at >= ${`${f.from}T00:00:00Z`}::timestamptz` : null,
      f.to ? sql`o.observed_at < (${`${f.to}T00:00:00Z`}::timestamptz + interval '1 day')` : null,
      f.tags?.length ? sql`o.tags && ARRAY[${sql.join(f.tags.map((t) => sql`${t}`), sql`, `)}]::text[]` : null,
    ].filter((s): s is SQL => s !== null),
    sql` AND `,
  );
  const coderIn = (column: SQL) => (f.coders?.length ? sql` AND ${column} IN (${sql.join(f.coders.map((id) => sql`${id}::uuid`), sql`, `)})` : sql``);
  const human = sql`c.classifier_id IS NULL AND c.method IN ('manual', 'live') AND c.status = 'accepted'`;
  return sql`
    SELECT CASE WHEN c.classifier_id IS NULL THEN 'human' ELSE 'machine' END AS source, c.observation_id::text AS o, c.behaviour_id::text AS b,
        COALESCE(c.classifier_id, c.coder_id)::text AS who, c.job_id::text AS job,
        CASE WHEN c.char_start IS NOT NULL AND c.char_end IS NOT NULL AND c.message_id IS NOT NULL
          THEN COALESCE(c.part_index, 0) || ':' || c.char_start || ':' || c.char_end || ':' || c.message_id END AS span
      FROM codings c JOIN observations o ON o.id = c.observation_id
      WHERE c.ethogram_version_id = ${f.version}::uuid AND c.withdrawn_at IS NULL AND ${observationFilter}
        AND ((${human}${coderIn(sql`c.coder_id`)}) OR c.classifier_id IS NOT NULL)
    UNION ALL
    SELECT CASE WHEN a.submitted_at IS NULL THEN 'open' ELSE 'submitted' END, a.observation_id::text, NULL, a.coder_id::text, NULL, NULL
      FROM coding_assignments a JOIN observations o ON o.id = a.observation_id
      WHERE a.withdrawn_at IS NULL AND ${observationFilter}${coderIn(sql`a.coder_id`)}
        -- Assignments name no version: one whose coder coded the observation only under another version is about that one.
        AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.observation_id = a.observation_id AND c.coder_id = a.coder_id
          AND ${human} AND c.withdrawn_at IS NULL AND c.ethogram_version_id <> ${f.version}::uuid)
    UNION ALL
    SELECT 'classified', i.observation_id::text, NULL, j.payload->>'classifierId', i.job_id::text, NULL
      FROM classification_items i JOIN jobs j ON j.id = i.job_id JOIN observations o ON o.id = i.observation_id
      WHERE i.status = 'done' AND ${observationFilter}`;
}

/** The non-draft versions people can analyse, newest first per ethogram, for the filter form. */
export async function listAnalysableVersions(db: Db): Promise<AgreementVersion[]> {
  return rowsOf<{ id: string; number: number; status: string; slug: string; ethogram_name: string }>(
    await db.execute(sql`SELECT v.id::text AS id, v.number, v.status::text AS status, e.slug, e.name AS ethogram_name
      FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id
      WHERE e.deleted_at IS NULL AND v.status <> 'draft' ORDER BY e.name, e.slug, v.number DESC`),
  ).map((r) => ({ id: r.id, number: Number(r.number), status: r.status, slug: r.slug, ethogramName: r.ethogram_name }));
}

import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';

export interface RecodeCandidate { code: string; name: string; definition: string; hotkey: string | null }

export interface RecodeItemView {
  id: string;
  reason: 'split' | 'redefine';
  status: 'open' | 'resolved';
  version: number;
  observation: { id: string; title: string };
  coding: { id: string; quote: string | null; messageId: string | null; rationale: string; coder: string; madeUnder: number };
  from: { code: string; name: string; definition: string };
  candidates: RecodeCandidate[];
  decision: string | null;
  chosenCode: string | null;
}

export interface RecodeQueuePage { items: RecodeItemView[]; open: number; resolved: number; next: string | null }

interface Row {
  id: string;
  reason: 'split' | 'redefine';
  status: 'open' | 'resolved';
  decision: string | null;
  chosen_code: string | null;
  from_code: string;
  candidates: string[];
  created_at: string;
  version_id: string;
  version_number: number;
  base_version_id: string | null;
  observation_id: string;
  title: string;
  coding_id: string;
  quote: string | null;
  message_id: string | null;
  rationale: string;
  coder: string;
  made_under: number;
}

/**
 * One page of an ethogram's recode queue, oldest first (keyset on created_at, id), with what a person needs to
 * decide each item: the coded text, the old code's definition and each candidate's. Items on deleted
 * observations wait out of sight (they come back if the observation is restored).
 */
export async function recodeQueue(db: Db, ethogramId: string, options: { after?: string; limit?: number; status?: 'open' | 'resolved' } = {}): Promise<RecodeQueuePage> {
  const limit = Math.min(options.limit ?? 20, 100);
  const status = options.status ?? 'open';
  const [afterAt, afterId] = options.after ? options.after.split('_') : [];
  const rows = rowsOf<Row>(
    await db.execute(sql`SELECT r.id, r.reason, r.status, r.decision, r.chosen_code, r.from_code, r.candidates, r.created_at,
        r.version_id, v.number AS version_number, v.base_version_id, o.id AS observation_id, o.title, c.id AS coding_id, c.quote,
        c.message_id, c.rationale, u.display_name AS coder, cv.number AS made_under
      FROM recode_items r
      JOIN ethogram_versions v ON v.id = r.version_id
      JOIN observations o ON o.id = r.observation_id AND o.deleted_at IS NULL
      JOIN codings c ON c.id = r.coding_id
      JOIN ethogram_versions cv ON cv.id = c.ethogram_version_id
      JOIN users u ON u.id = c.coder_id
      WHERE r.ethogram_id = ${ethogramId}::uuid AND r.status = ${status}
        ${afterAt && afterId ? sql`AND (r.created_at, r.id) > (${afterAt}::timestamptz, ${afterId}::uuid)` : sql``}
      ORDER BY r.created_at, r.id
      LIMIT ${limit + 1}`),
  );
  const page = rows.slice(0, limit);
  const counts = rowsOf<{ open: number; resolved: number }>(
    await db.execute(sql`SELECT count(*) FILTER (WHERE status = 'open')::int AS open, count(*) FILTER (WHERE status = 'resolved')::int AS resolved
      FROM recode_items WHERE ethogram_id = ${ethogramId}::uuid`),
  )[0]!;
  // Definitions of the codes involved, from the new versions and the versions they were opened from.
  const versionIds = [...new Set(page.flatMap((r) => [r.version_id, r.base_version_id].filter((x): x is string => !!x)))];
  const defs = versionIds.length
    ? rowsOf<{ version_id: string; code: string; name: string; definition: string; hotkey: string | null }>(
        await db.execute(sql`SELECT version_id, code, name, definition, hotkey FROM behaviours WHERE version_id IN (${sql.join(versionIds.map((id) => sql`${id}::uuid`), sql`, `)})`),
      )
    : [];
  const def = (versionId: string | null, code: string) => defs.find((d) => d.version_id === versionId && d.code === code);
  const items = page.map((r): RecodeItemView => {
    const from = def(r.base_version_id, r.from_code) ?? def(r.version_id, r.from_code);
    return {
      id: r.id,
      reason: r.reason,
      status: r.status,
      version: r.version_number,
      observation: { id: r.observation_id, title: r.title },
      coding: { id: r.coding_id, quote: r.quote, messageId: r.message_id, rationale: r.rationale, coder: r.coder, madeUnder: r.made_under },
      from: { code: r.from_code, name: from?.name ?? r.from_code, definition: from?.definition ?? '' },
      candidates: r.candidates.map((code) => {
        const d = def(r.version_id, code);
        return { code, name: d?.name ?? code, definition: d?.definition ?? '', hotkey: d?.hotkey ?? null };
      }),
      decision: r.decision,
      chosenCode: r.chosen_code,
    };
  });
  const last = page.at(-1);
  return {
    items,
    open: counts.open,
    resolved: counts.resolved,
    next: rows.length > limit && last ? `${new Date(last.created_at).toISOString()}_${last.id}` : null,
  };
}

import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';
import type { PersonView } from '../observation.presenter.ts';
import type { AssignmentListFilters } from './assignment.input.ts';

/** An assignment as the API and pages show it. */
export interface AssignmentView {
  id: string;
  observation: { id: string; title: string };
  coder: PersonView;
  assignedBy: PersonView;
  blind: boolean;
  state: 'open' | 'submitted' | 'withdrawn';
  createdAt: string;
  submittedAt: string | null;
  withdrawnAt: string | null;
  /** The coder's active codings of the observation (how far they got). */
  codingCount: number;
}

interface AssignmentRow {
  id: string;
  observation_id: string;
  title: string;
  coder_id: string;
  coder_name: string;
  assigned_by: string;
  assigner_name: string;
  blind: boolean;
  created_at: string | Date;
  submitted_at: string | Date | null;
  withdrawn_at: string | Date | null;
  coding_count: number;
}

const iso = (d: string | Date) => (d instanceof Date ? d : new Date(d)).toISOString();

function present(r: AssignmentRow): AssignmentView {
  return {
    id: r.id,
    observation: { id: r.observation_id, title: r.title },
    coder: { id: r.coder_id, displayName: r.coder_name },
    assignedBy: { id: r.assigned_by, displayName: r.assigner_name },
    blind: r.blind,
    state: r.withdrawn_at ? 'withdrawn' : r.submitted_at ? 'submitted' : 'open',
    createdAt: iso(r.created_at),
    submittedAt: r.submitted_at ? iso(r.submitted_at) : null,
    withdrawnAt: r.withdrawn_at ? iso(r.withdrawn_at) : null,
    codingCount: Number(r.coding_count),
  };
}

const select = sql`SELECT a.id, a.observation_id, o.title, a.coder_id, cu.display_name AS coder_name, a.assigned_by, au.display_name AS assigner_name,
    a.blind, a.created_at, a.submitted_at, a.withdrawn_at,
    (SELECT count(*)::int FROM codings c WHERE c.observation_id = a.observation_id AND c.coder_id = a.coder_id
       AND c.withdrawn_at IS NULL AND c.status <> 'rejected') AS coding_count
  FROM coding_assignments a
  JOIN observations o ON o.id = a.observation_id
  JOIN users cu ON cu.id = a.coder_id
  JOIN users au ON au.id = a.assigned_by`;

/** Assignments matching the filters (`coder` already resolved to a user id, or null for everyone), newest first, at most 500. */
export async function listAssignments(db: Db, f: Omit<AssignmentListFilters, 'coder'> & { coderId: string | null }): Promise<AssignmentView[]> {
  const where: SQL[] = [sql`o.deleted_at IS NULL`];
  if (f.coderId) where.push(sql`a.coder_id = ${f.coderId}::uuid`);
  if (f.observationId) where.push(sql`a.observation_id = ${f.observationId}::uuid`);
  if (f.state === 'open') where.push(sql`a.submitted_at IS NULL AND a.withdrawn_at IS NULL`);
  if (f.state === 'submitted') where.push(sql`a.submitted_at IS NOT NULL AND a.withdrawn_at IS NULL`);
  if (f.state === 'withdrawn') where.push(sql`a.withdrawn_at IS NOT NULL`);
  const rows = rowsOf<AssignmentRow>(await db.execute(sql`${select} WHERE ${sql.join(where, sql` AND `)} ORDER BY a.created_at DESC, a.id LIMIT 500`));
  return rows.map(present);
}

/** One assignment, or null. */
export async function getAssignment(db: Db, id: string): Promise<AssignmentView | null> {
  const rows = rowsOf<AssignmentRow>(await db.execute(sql`${select} WHERE a.id = ${id}::uuid`));
  return rows[0] ? present(rows[0]) : null;
}

/** The actor's live (not withdrawn) assignment on an observation, or null: the observation page offers "Submit my coding" from it. */
export async function liveAssignmentOf(db: Db, coderId: string, observationId: string): Promise<AssignmentView | null> {
  const rows = rowsOf<AssignmentRow>(
    await db.execute(sql`${select} WHERE a.coder_id = ${coderId}::uuid AND a.observation_id = ${observationId}::uuid AND a.withdrawn_at IS NULL`),
  );
  return rows[0] ? present(rows[0]) : null;
}

export interface CoderOption extends PersonView { role: string; openAssignments: number }

/** People who can code (researchers and admins, not disabled), with their open assignments, fewest first. */
export async function listCoders(db: Db): Promise<CoderOption[]> {
  const rows = rowsOf<{ id: string; display_name: string; role: string; open: number }>(
    await db.execute(sql`SELECT u.id, u.display_name, u.role,
        (SELECT count(*)::int FROM coding_assignments a WHERE a.coder_id = u.id AND a.submitted_at IS NULL AND a.withdrawn_at IS NULL) AS open
      FROM users u WHERE u.role IN ('researcher', 'admin') AND u.disabled_at IS NULL
      ORDER BY open, u.display_name, u.id LIMIT 1000`),
  );
  return rows.map((r) => ({ id: r.id, displayName: r.display_name, role: r.role, openAssignments: Number(r.open) }));
}

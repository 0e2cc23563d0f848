import express, { type Request, type Response, type Router } from 'express';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { listFiltersSchema } from '../../observations/observation.input.ts';
import { listObservations } from '../../observations/observation.queries.ts';
import { ASSIGN_LIMIT, assignmentInputSchema } from '../../observations/review/assignment.input.ts';
import { getAssignment, listAssignments, listCoders } from '../../observations/review/assignment.queries.ts';
import { createAssignments } from '../../observations/review/create-assignments.command.ts';
import { submitAssignment } from '../../observations/review/submit-assignment.command.ts';
import { withdrawAssignment } from '../../observations/review/withdraw-assignment.command.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { flash } from './form.ts';
import { preparePageLocals } from './observations/page-locals.ts';

/** The observation list's filter keys: "assign these" carries them from the list page to the assign form. */
const LIST_KEYS = ['q', 'provider', 'model', 'behaviour', 'category', 'tag', 'status', 'from', 'to', 'sort'] as const;

/** The assign form as the person filled it in. */
interface AssignValues { ids: string[]; mode: string; coderIds: string[]; count: string; blind: boolean }

/**
 * `/assignments`: a coder's open assignments (and submitted ones), with "Submit my coding"; researchers also see
 * every open assignment, with Withdraw. `/assignments/new`: assign chosen observations (by id, or the first
 * ASSIGN_LIMIT matching the observation list's filters) to named coders or to N least-busy researchers.
 */
export function assignmentPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/assignments', async (req, res) => {
    const actor = req.auth.actor;
    if (actor.kind !== 'user') authorize(actor, 'assignment.manage');
    const me = actor.kind === 'user' ? actor.id : '';
    const manages = can(actor, 'assignment.manage');
    const [open, submitted, everyone] = await Promise.all([
      listAssignments(deps.db, { coderId: me, state: 'open' }),
      listAssignments(deps.db, { coderId: me, state: 'submitted' }),
      manages ? listAssignments(deps.db, { coderId: null, state: 'open' }) : Promise.resolve([]),
    ]);
    res.render('pages/review/assignments', {
      title: 'My assignments',
      open,
      submitted: submitted.slice(0, 50),
      manages,
      everyone: everyone.map((a) => ({ ...a, mine: a.coder.id === me })),
    });
  });

  router.get('/assignments/new', async (req, res) => {
    authorize(req.auth.actor, 'assignment.manage');
    const ids = idsFrom(req.query.ids);
    await renderNew(req, res, { ids, mode: 'count', coderIds: [], count: '2', blind: true });
  });

  // "Assign coders to selected" from the observation list: the selection arrives in its bulk form (POST, CSRF).
  router.post('/assignments/choose', async (req, res) => {
    authorize(req.auth.actor, 'assignment.manage');
    await renderNew(req, res, { ids: idsFrom(req.body?.ids), mode: 'count', coderIds: [], count: '2', blind: true });
  });

  router.post('/assignments/new', async (req, res) => {
    authorize(req.auth.actor, 'assignment.manage');
    const values: AssignValues = {
      ids: idsFrom(req.body?.ids),
      mode: req.body?.mode === 'named' ? 'named' : 'count',
      coderIds: idsFrom(req.body?.coderIds),
      count: typeof req.body?.count === 'string' ? req.body.count.trim() : '',
      blind: req.body?.blind === 'on' || req.body?.blind === 'true',
    };
    try {
      const input = parseOrThrow(
        assignmentInputSchema,
        {
          observationIds: values.ids,
          blind: values.blind,
          ...(values.mode === 'named' ? { coderIds: values.coderIds } : { count: /^\d+$/.test(values.count) ? Number(values.count) : Number.NaN }),
        },
        'The assignment',
      );
      const result = await createAssignments(ctxOf(req, deps), input);
      const skipped = result.skipped.length ? ` ${result.skipped.length} left out: ${result.skipped[0]!.reason}` : '';
      flash(res, `Made ${result.created.length} assignment${result.created.length === 1 ? '' : 's'}${values.blind ? ' (blind)' : ''}.${skipped}`.slice(0, 290));
      res.redirect(303, '/assignments');
    } catch (err) {
      if (!(err instanceof AppError) || (err.id !== 'validation_failed' && err.id !== 'conflict')) throw err;
      preparePageLocals(req, res, deps);
      await renderNew(req, res, values, { status: errorStatus[err.id], formError: err.message, errors: (err.details?.fields ?? {}) as Record<string, string> });
    }
  });

  async function renderNew(req: Request, res: Response, values: AssignValues, problem?: { status: number; formError: string; errors: Record<string, string> }) {
    let ids = values.ids;
    let fromFilters = false;
    if (ids.length === 0 && req.method === 'GET' && (req.query.all === '1' || LIST_KEYS.some((k) => typeof req.query[k] === 'string' && req.query[k]))) {
      // "Assign these" from the list page: the observations matching its filters, up to the limit.
      const filters = parseOrThrow(listFiltersSchema, { ...pick(req.query), page: 1, pageSize: 100 }, 'The filters');
      const found = [];
      for (let page = 1; found.length < ASSIGN_LIMIT; page++) {
        const result = await listObservations(ctxOf(req, deps), { ...filters, page });
        found.push(...result.data.map((o) => o.id));
        if (page >= result.totalPages) break;
      }
      ids = found.slice(0, ASSIGN_LIMIT);
      fromFilters = true;
    }
    const [observations, coders] = await Promise.all([
      ids.length
        ? rowsOf<{ id: string; title: string }>(
            await deps.db.execute(sql`SELECT id, title FROM observations WHERE deleted_at IS NULL
              AND id = ANY(ARRAY[${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)}]) ORDER BY observed_at DESC, id`),
          )
        : Promise.resolve([]),
      listCoders(deps.db),
    ]);
    res.status(problem?.status ?? 200).render('pages/review/assign', {
      title: 'Assign coders',
      observations,
      fromFilters,
      limit: ASSIGN_LIMIT,
      named: values.mode === 'named',
      count: values.count,
      blind: values.blind,
      coders: coders.map((c) => ({ ...c, checked: values.coderIds.includes(c.id) })),
      errors: problem?.errors ?? {},
      formError: problem?.formError,
    });
  }

  router.post('/assignments/:id/submit', async (req, res) => {
    const id = parseId(req.params.id, 'That assignment');
    const found = await getAssignment(deps.db, id);
    if (!found) throw notFound('That assignment');
    authorize(req.auth.actor, 'assignment.submit', { coderId: found.coder.id });
    try {
      await submitAssignment(ctxOf(req, deps), id);
      flash(res, `Submitted your coding of "${found.observation.title}". Others' codings are visible to you now.`.slice(0, 290));
    } catch (err) {
      if (!(err instanceof AppError) || err.id !== 'conflict') throw err;
      flash(res, err.message);
    }
    const next = typeof req.body?.next === 'string' && /^\/observations\/[0-9a-f-]{36}$/.test(req.body.next) ? req.body.next : '/assignments';
    res.redirect(303, next);
  });

  router.post('/assignments/:id/withdraw', async (req, res) => {
    const id = parseId(req.params.id, 'That assignment');
    authorize(req.auth.actor, 'assignment.manage');
    const found = await getAssignment(deps.db, id);
    if (!found) throw notFound('That assignment');
    try {
      await withdrawAssignment(ctxOf(req, deps), id);
      flash(res, `Withdrew ${found.coder.displayName}'s assignment of "${found.observation.title}".`.slice(0, 290));
    } catch (err) {
      if (!(err instanceof AppError) || err.id !== 'conflict') throw err;
      flash(res, err.message);
    }
    res.redirect(303, '/assignments');
  });

  return router;
}

function idsFrom(v: unknown): string[] {
  const list = ([] as unknown[]).concat(v ?? []).flatMap((x) => (typeof x === 'string' ? x.split(/[\s,]+/) : []));
  return [...new Set(list.map((s) => s.trim()).filter((s) => /^[0-9a-f-]{36}$/i.test(s)))].slice(0, ASSIGN_LIMIT + 1);
}

function pick(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(LIST_KEYS.flatMap((k) => (typeof query[k] === 'string' && query[k] ? [[k, query[k] as string]] : [])));
}

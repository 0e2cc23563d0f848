import express, { type Request, type Response, type Router } from 'express';
import { sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { rowsOf } from '../../core/db.ts';
import { authorize } from '../../core/policy.ts';
import { fieldErrors, parseOrThrow } from '../../core/validation.ts';
import { listVersionBehaviours } from '../../ethograms/behaviour.queries.ts';
import { acceptCoding } from '../../observations/review/accept-coding.command.ts';
import { bulkReview } from '../../observations/review/bulk-review.command.ts';
import { editCoding } from '../../observations/review/edit-coding.command.ts';
import { rejectCoding } from '../../observations/review/reject-coding.command.ts';
import { bulkReviewInputSchema, editInputSchema, proposalMethods, reviewQueueFiltersSchema } from '../../observations/review/review.input.ts';
import type { ReviewItemView } from '../../observations/review/review.presenter.ts';
import { listReviewQueue } from '../../observations/review/review.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { ctxOf } from '../http/request-context.ts';
import { authorizeReview } from '../http/routes/review.routes.ts';
import { parseId } from '../http/validate.ts';
import { flash } from './form.ts';
import { loadCodePicker } from './observations/code-picker.ts';
import { preparePageLocals } from './observations/page-locals.ts';

/** The queue's filter fields, in the order they appear in links. */
const FILTER_KEYS = ['behaviour', 'classifierId', 'method', 'minConfidence', 'maxConfidence', 'ethogramVersionId', 'observationId', 'limit'] as const;
type RawFilters = Record<(typeof FILTER_KEYS)[number], string>;

const methodLabels: Record<(typeof proposalMethods)[number], string> = { llm_judge: 'LLM judge', classifier: 'Offline classifier', rule: 'Rule detector' };
const kindLabels: Record<string, string> = { llm_judge: 'LLM judge', offline: 'offline classifier', rules: 'rule detectors' };

/** A failed edit brought back to the page: which proposal, what was typed, what is wrong. */
interface EditProblem { id: string; values: { code: string; start: string; end: string }; errors: Record<string, string> }

/**
 * `/review`: the queue of proposed codings with a GET filter form (works without JavaScript), each proposal with
 * its quote in context and accept / reject / edit forms; the review-queue enhancer adds keyboard shortcuts and
 * decides with fetch against the same API. Decisions redirect back to the same queue view with a flash.
 */
export function reviewPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/review', async (req, res) => {
    authorize(req.auth.actor, 'coding.reviewQueue');
    await renderQueue(req, res, req.query as Record<string, unknown>);
  });

  async function renderQueue(req: Request, res: Response, query: Record<string, unknown>, problem?: { status: number; formError: string; edit?: EditProblem }) {
    const raw = rawFilters(query);
    const after = first(query.after);
    const parsed = reviewQueueFiltersSchema.safeParse({ ...raw, after: after || undefined });
    const ctx = ctxOf(req, deps);
    const [page, classifiers, versions, picker] = await Promise.all([
      parsed.success ? listReviewQueue(ctx, parsed.data) : null,
      rowsOf<{ id: string; name: string; kind: string }>(await deps.db.execute(sql`SELECT id, name, kind FROM classifiers ORDER BY name, id LIMIT 500`)),
      rowsOf<{ id: string; slug: string; number: number; status: string }>(
        await deps.db.execute(sql`SELECT v.id, e.slug, v.number, v.status FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id
          WHERE v.status <> 'draft' ORDER BY e.slug, v.number DESC LIMIT 200`),
      ),
      loadCodePicker(deps.db),
    ]);
    const items = page?.data ?? [];
    const choices = await behaviourChoices(items);
    const returnTo = queueQuery(raw, after);
    res.status(problem?.status ?? (parsed.success ? 200 : 422)).render('pages/review/queue', {
      title: 'Review queue',
      values: raw,
      errors: parsed.success ? {} : fieldErrors(parsed.error),
      formError: problem?.formError ?? (parsed.success ? undefined : 'Some filters could not be read: see the messages beside them.'),
      filtered: FILTER_KEYS.some((k) => k !== 'limit' && raw[k]),
      total: page ? `${page.total.toLocaleString('en')}${page.totalCapped ? '+' : ''}` : '0',
      totalNumber: page?.total ?? 0,
      items: items.map((item) => reviewItem(item, choices.get(item.ethogramVersion.id) ?? [], problem?.edit)),
      returnTo,
      nextHref: page?.nextCursor ? `/review${queueQuery(raw, page.nextCursor)}` : null,
      firstHref: after ? `/review${queueQuery(raw, '')}` : null,
      classifiers: classifiers.map((c) => ({ ...c, label: `${c.name} (${kindLabels[c.kind] ?? c.kind})`, selected: c.id === raw.classifierId })),
      versions: versions.map((v) => ({ id: v.id, label: `${v.slug} v${v.number}${v.status === 'deprecated' ? ' (deprecated)' : ''}`, selected: v.id === raw.ethogramVersionId })),
      methods: proposalMethods.map((m) => ({ value: m, label: methodLabels[m], selected: m === raw.method })),
      behaviourGroups: (picker?.groups ?? []).map((g) => ({
        name: g.name,
        behaviours: g.behaviours.map((b) => ({ code: b.code, name: b.name, selected: b.code === raw.behaviour.toUpperCase() })),
      })),
    });
  }

  /** The behaviours each proposal may be edited to: those of its own ethogram version. */
  async function behaviourChoices(items: ReviewItemView[]) {
    const ids = [...new Set(items.map((i) => i.ethogramVersion.id))];
    const lists = await Promise.all(ids.map((id) => listVersionBehaviours(deps.db, id)));
    return new Map(ids.map((id, i) => [id, lists[i]!.filter((b) => b.status !== 'deprecated').map((b) => ({ code: b.code, name: b.name, hotkey: b.hotkey }))]));
  }

  /** Where a decision goes back to: the same queue view (only a query string of known keys). */
  function backTo(req: Request): string {
    const ret = typeof req.body?.returnTo === 'string' ? req.body.returnTo : '';
    if (!/^(\?[A-Za-z0-9_.~%&=+-]*)?$/.test(ret)) return '/review';
    return `/review${ret}`;
  }

  /** Runs a decision from a form; a proposal decided meanwhile (409) goes back to the queue with the message. */
  async function decide(req: Request, res: Response, run: (id: string) => Promise<string>) {
    const id = parseId(req.params.id, 'That coding');
    await authorizeReview(deps, req, id);
    try {
      flash(res, await run(id));
    } catch (err) {
      if (!(err instanceof AppError) || err.id !== 'conflict') throw err;
      flash(res, err.message);
    }
    res.redirect(303, backTo(req));
  }

  router.post('/review/:id/accept', async (req, res) => {
    await decide(req, res, async (id) => {
      const c = await acceptCoding(ctxOf(req, deps), id);
      return `Accepted ${c.behaviour.code} on "${shorten(await titleOf(c.observationId))}".`;
    });
  });

  router.post('/review/:id/reject', async (req, res) => {
    const reason = typeof req.body?.reason === 'string' ? req.body.reason.trim().slice(0, 2000) : '';
    await decide(req, res, async (id) => {
      const c = await rejectCoding(ctxOf(req, deps), id, reason);
      return `Rejected ${c.behaviour.code} on "${shorten(await titleOf(c.observationId))}".`;
    });
  });

  router.post('/review/:id/edit', async (req, res) => {
    const id = parseId(req.params.id, 'That coding');
    await authorizeReview(deps, req, id);
    const values = { code: str(req.body?.code), start: str(req.body?.start), end: str(req.body?.end) };
    const spanFields = { messageId: str(req.body?.messageId), partIndex: str(req.body?.partIndex) };
    try {
      const input: Record<string, unknown> = {};
      if (values.code) input.code = values.code;
      const spanChanged = values.start !== str(req.body?.origStart) || values.end !== str(req.body?.origEnd);
      if (spanFields.messageId && spanChanged && (values.start || values.end)) {
        input.span = { messageId: spanFields.messageId, partIndex: Number(spanFields.partIndex), start: toInt(values.start), end: toInt(values.end) };
      }
      const c = await editCoding(ctxOf(req, deps), id, parseOrThrow(editInputSchema, input, 'The edit'));
      flash(res, `Edited and accepted: ${c.behaviour.code} on "${shorten(await titleOf(c.observationId))}".`);
      res.redirect(303, backTo(req));
    } catch (err) {
      if (err instanceof AppError && err.id === 'conflict') {
        flash(res, err.message);
        return res.redirect(303, backTo(req));
      }
      if (!(err instanceof AppError) || err.id !== 'validation_failed') throw err;
      preparePageLocals(req, res, deps);
      const fields = (err.details?.fields ?? {}) as Record<string, string>;
      const errors = { code: fields.code ?? '', start: fields['span.start'] ?? '', end: fields['span.end'] ?? fields['span.partIndex'] ?? fields['span.messageId'] ?? '' };
      const query = Object.fromEntries(new URLSearchParams(backTo(req).slice('/review'.length).replace(/^\?/, '')));
      await renderQueue(req, res, query, { status: errorStatus[err.id], formError: err.message, edit: { id, values, errors } });
    }
  });

  router.post('/review/bulk', async (req, res) => {
    authorize(req.auth.actor, 'coding.reviewQueue');
    const ids = ([] as unknown[]).concat(req.body?.ids ?? []).filter((v): v is string => typeof v === 'string');
    const action = str(req.body?.action);
    if (ids.length === 0) {
      flash(res, 'Select proposals first (the boxes beside them).');
      return res.redirect(303, backTo(req));
    }
    const input = parseOrThrow(bulkReviewInputSchema, { action, ids, reason: str(req.body?.reason) }, 'The bulk decision');
    const result = await bulkReview(ctxOf(req, deps), input, async (codingId) => {
      try {
        await authorizeReview(deps, req, codingId);
        return null;
      } catch (err) {
        if (err instanceof AppError && (err.id === 'not_found' || err.id === 'forbidden')) return err.message;
        throw err;
      }
    });
    const verb = action === 'accept' ? 'Accepted' : 'Rejected';
    flash(res, `${verb} ${result.decided.length} proposal${result.decided.length === 1 ? '' : 's'}${result.skipped.length ? `; ${result.skipped.length} skipped (decided meanwhile or not found)` : ''}.`);
    res.redirect(303, backTo(req));
  });

  async function titleOf(observationId: string): Promise<string> {
    const rows = rowsOf<{ title: string }>(await deps.db.execute(sql`SELECT title FROM observations WHERE id = ${observationId}::uuid`));
    return rows[0]?.title ?? '';
  }

  return router;
}

function reviewItem(item: ReviewItemView, choices: { code: string; name: string; hotkey: string | null }[], edit?: EditProblem) {
  const editing = edit?.id === item.id ? edit : undefined;
  const chosen = editing?.values.code || item.behaviour.code;
  const modifiers = Object.entries(item.modifiers ?? {}).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; ');
  return {
    ...item,
    confidenceText: item.confidence === null ? null : item.confidence.toFixed(2),
    methodLabel: methodLabels[item.method as keyof typeof methodLabels] ?? item.method,
    classifierLabel: item.classifier ? `${item.classifier.name} (${kindLabels[item.classifier.kind] ?? item.classifier.kind})` : null,
    modifiersText: modifiers,
    where: item.context ? `message #${item.context.messageNumber ?? item.context.messageId} (${item.context.role}), part ${item.context.partIndex + 1}` : 'whole observation',
    editOpen: !!editing,
    editValues: editing?.values ?? { code: item.behaviour.code, start: item.span ? String(item.span.start) : '', end: item.span ? String(item.span.end) : '' },
    editErrors: editing?.errors ?? {},
    choices: choices.map((c) => ({ ...c, selected: c.code === chosen.toUpperCase() })),
  };
}

function rawFilters(query: Record<string, unknown>): RawFilters {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, first(query[k]).trim()])) as RawFilters;
}

/** The query string of a queue view ("" or "?..."), with a page cursor when given. */
function queueQuery(raw: RawFilters, after: string): string {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (raw[k]) params.set(k, raw[k]);
  if (after) params.set('after', after);
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

function first(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const toInt = (v: string) => (/^\d+$/.test(v) ? Number(v) : Number.NaN);
const shorten = (t: string) => (t.length > 60 ? `${t.slice(0, 59)}…` : t);

import express, { type Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../../accounts/actor.ts';
import { AppError, conflict, notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { fieldErrors, parseOrThrow } from '../../../core/validation.ts';
import { addTags } from '../../../observations/add-tags.command.ts';
import { createCoding } from '../../../observations/create-coding.command.ts';
import { deleteObservation } from '../../../observations/delete-observation.command.ts';
import { codingInputSchema, tagSchema, triageSchema } from '../../../observations/observation.input.ts';
import { getObservationHistory, loadCodingRef, loadObservationRef } from '../../../observations/observation.queries.ts';
import { removeTag } from '../../../observations/remove-tag.command.ts';
import { restoreObservation } from '../../../observations/restore-observation.command.ts';
import { triageObservation } from '../../../observations/triage-observation.command.ts';
import { withdrawCoding } from '../../../observations/withdraw-coding.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { errorStatus } from '../../http/error-status.ts';
import { ctxOf } from '../../http/request-context.ts';
import { parseId } from '../../http/validate.ts';
import { flash } from '../form.ts';
import { loadCodePicker } from './code-picker.ts';
import { codingFieldErrors, codingInputFromForm, codingValuesFromBody } from './coding-form.ts';
import { loadReadable, renderObservationPage, type PageProblems } from './observation-page.ts';
import { preparePageLocals } from './page-locals.ts';
import { isInputProblem, parseForm } from './parse-form.ts';

const tagsInput = z.object({ tags: z.array(tagSchema).min(1, 'Enter at least one tag.').max(30, 'At most 30 tags at once.') });

/**
 * The observation page and the actions taken from it (code, withdraw, tag, triage, delete, restore) plus its
 * history. Each action redirects back with a flash; a rejected input renders the page again with the input kept.
 */
export function observationShowPages(deps: AppDeps): Router {
  const router = express.Router();

  /** The observation's authorization facts; a deleted observation exists only for admins (as in the API). */
  async function refFor(req: express.Request, opts: { deletedOk?: boolean } = {}) {
    const id = parseId(req.params.id, 'That observation');
    const ref = await loadObservationRef(deps.db, id);
    if (!ref) throw notFound('That observation');
    if (ref.deletedAt && !(opts.deletedOk && hasRole(req.auth.actor, 'admin'))) throw notFound('That observation');
    return { id, ref };
  }

  router.get('/observations/:id', async (req, res) => {
    const observation = await loadReadable(req, deps);
    await renderObservationPage(req, res, deps, observation);
  });

  router.get('/observations/:id/history', async (req, res) => {
    const observation = await loadReadable(req, deps);
    const history = await getObservationHistory(ctxOf(req, deps), observation.id);
    res.render('pages/observation-history', {
      title: `History: ${observation.title}`,
      observation,
      events: history.events.map((e) => ({ ...e, details: summarise(e.payload) })),
      revisions: history.revisions.map((r) => ({ ...r, snapshotJson: JSON.stringify(r.snapshot, null, 2) })),
    });
  });

  /** Renders the page again after a failed action, or rethrows what is not the person's input to fix. */
  async function renderProblems(req: express.Request, res: express.Response, err: unknown, problems: (fields: Record<string, string>) => PageProblems) {
    if (!isInputProblem(err)) throw err;
    preparePageLocals(req, res, deps);
    const observation = await loadReadable(req, deps);
    await renderObservationPage(req, res, deps, observation, {
      status: errorStatus[err.id],
      formError: err.message,
      ...problems((err.details?.fields ?? {}) as Record<string, string>),
    });
  }

  router.post('/observations/:id/codings', async (req, res) => {
    const { id, ref } = await refFor(req);
    authorize(req.auth.actor, 'coding.create', ref);
    const picker = await loadCodePicker(deps.db);
    const modifierSets = picker?.modifierSets ?? [];
    const values = codingValuesFromBody(req.body ?? {}, modifierSets);
    try {
      const { input, errors } = codingInputFromForm(values, modifierSets);
      const parsed = parseForm(codingInputSchema, input, errors, 'The coding');
      const coding = await createCoding(ctxOf(req, deps), id, parsed);
      flash(res, `Coded ${coding.behaviour.code} (${coding.behaviour.name}).`);
      res.redirect(303, `/observations/${id}#coding-${coding.id}`);
    } catch (err) {
      await renderProblems(req, res, err, (fields) => ({ coding: { values, errors: codingFieldErrors(fields) } }));
    }
  });

  router.post('/codings/:id/withdraw', async (req, res) => {
    const codingId = parseId(req.params.id, 'That coding');
    const ref = await loadCodingRef(deps.db, codingId);
    if (!ref) throw notFound('That coding');
    if (ref.observation.deletedAt && !hasRole(req.auth.actor, 'admin')) throw notFound('That coding');
    authorize(req.auth.actor, 'observation.read', ref.observation);
    authorize(req.auth.actor, 'coding.withdraw', ref);
    const coding = await withdrawCoding(ctxOf(req, deps), codingId);
    flash(res, `Withdrew ${coding.behaviour.code}.`);
    res.redirect(303, `/observations/${ref.observationId}#codings`);
  });

  router.post('/observations/:id/tags', async (req, res) => {
    const { id, ref } = await refFor(req);
    authorize(req.auth.actor, 'observation.tag', ref);
    const raw = typeof req.body?.tags === 'string' ? req.body.tags : '';
    const tags = raw.split(',').map((t: string) => t.trim()).filter(Boolean);
    try {
      const parsed = parseOrThrow(tagsInput, { tags }, 'The tags');
      await addTags(ctxOf(req, deps), id, parsed.tags);
      flash(res, `Tagged ${parsed.tags.join(', ')}.`);
      res.redirect(303, `/observations/${id}`);
    } catch (err) {
      await renderProblems(req, res, err, (fields) => ({ tags: { value: raw, error: tagError(fields, tags) } }));
    }
  });

  router.post('/observations/:id/tags/:tag/delete', async (req, res) => {
    const { id, ref } = await refFor(req);
    authorize(req.auth.actor, 'observation.tag', ref);
    const tag = String(req.params.tag);
    await removeTag(ctxOf(req, deps), id, tag);
    flash(res, `Removed the tag ${tag}.`);
    res.redirect(303, `/observations/${id}`);
  });

  router.post('/observations/:id/triage', async (req, res) => {
    const { id, ref } = await refFor(req);
    authorize(req.auth.actor, 'observation.triage', ref);
    const status = typeof req.body?.status === 'string' ? req.body.status : '';
    const duplicateOf = typeof req.body?.duplicateOf === 'string' ? req.body.duplicateOf.trim() : '';
    try {
      const result = triageSchema.safeParse({ status, ...(duplicateOf ? { duplicateOf } : {}) });
      if (!result.success) throw new AppError('validation_failed', 'The status could not be set: see the message beside the field.', { fields: fieldErrors(result.error) });
      await triageObservation(ctxOf(req, deps), id, result.data);
      flash(res, `Status set to ${result.data.status}.`);
      res.redirect(303, `/observations/${id}`);
    } catch (err) {
      await renderProblems(req, res, err, (fields) => ({ triage: { status, duplicateOf, errors: fields } }));
    }
  });

  router.post('/observations/:id/delete', async (req, res) => {
    const { id, ref } = await refFor(req);
    authorize(req.auth.actor, 'observation.delete', ref);
    await deleteObservation(ctxOf(req, deps), id);
    flash(res, 'Observation deleted. An admin can restore it from the trash.');
    res.redirect(303, '/observations');
  });

  router.post('/observations/:id/restore', async (req, res) => {
    const { id, ref } = await refFor(req, { deletedOk: true });
    if (!ref.deletedAt) throw conflict('This observation is not deleted, so there is nothing to restore.');
    authorize(req.auth.actor, 'observation.restore', ref);
    await restoreObservation(ctxOf(req, deps), id);
    flash(res, 'Observation restored.');
    res.redirect(303, `/observations/${id}`);
  });

  return router;
}

function tagError(fields: Record<string, string>, tags: string[]): string {
  for (const [key, message] of Object.entries(fields)) {
    const index = /^tags\.(\d+)/.exec(key)?.[1];
    return index !== undefined ? `Tag "${tags[Number(index)]}": ${message}` : message;
  }
  return '';
}

/** A one-line summary of an event's payload for the history table. */
function summarise(payload: Record<string, unknown>): string {
  return Object.entries(payload ?? {})
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ')
    .slice(0, 500);
}

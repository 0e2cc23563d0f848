import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { fieldErrors, parseOrThrow } from '../../core/validation.ts';
import { behaviourKinds } from '../../ethograms/ethogram-document.schema.ts';
import { behaviourInput } from '../../ethograms/ethogram.input.ts';
import { listFilterOptions } from '../../observations/observation.queries.ts';
import { suggestBehaviour } from '../../observations/suggest/behaviour-suggestion.ts';
import { draftBehaviourFromCluster, PROMPTING_OBSERVATIONS_KEPT } from '../../observations/suggest/draft-behaviour-from-cluster.command.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, suggestFiltersSchema, suggestQueryString, type SuggestFilters } from '../../observations/suggest/suggest-filters.ts';
import { listDraftTargets, type DraftTarget } from '../../observations/suggest/suggest.queries.ts';
import { findSuggestions, type Suggestions } from '../../observations/suggest/suggestions.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { csrfToken } from '../http/middleware/csrf.ts';
import { ctxOf } from '../http/request-context.ts';
import { behaviourFormFields, behaviourInputFromForm, formFieldErrors } from './ethogram-forms.ts';
import { flash, rerenderForm } from './form.ts';

const FILTER_KEYS = ['provider', 'model', 'tag', 'from', 'to', 'limit', 'unclear'] as const;
/** The fields of the "Turn into a draft behaviour" form, echoed back when it fails. */
const FORM_FIELDS = ['ethogram', 'code', 'name', 'category', 'kind', 'definition', 'inclusion', 'examples.positive', 'colour', 'observations', 'clusterSize', 'back'] as const;
const DEFAULT_COLOUR = '#808080';

const text = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : '');

/** The ids of the observations that prompted the behaviour (a hidden field: comma-separated uuids). */
const promptingObservations = z
  .string()
  .transform((s) => s.split(',').map((id) => id.trim()).filter(Boolean))
  .pipe(z.array(z.string().uuid('The cluster’s observations must be observation ids.')).max(PROMPTING_OBSERVATIONS_KEPT));

/**
 * Suggested behaviours `/suggestions` (researchers): clusters of observations nobody has coded yet (or coded only
 * as "unclear"), each with its top terms, representative excerpts and members, and a form that turns a cluster
 * into a behaviour of an ethogram's draft (opening a draft when none is open). The clustering runs in the
 * request: it is pure, deterministic and fast enough (observations/suggest/README.md).
 */
export function suggestionPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/suggestions', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.suggest');
    const ctx = ctxOf(req, deps);
    const query = Object.fromEntries(FILTER_KEYS.map((k) => [k, req.query[k]]));
    const values = Object.fromEntries(FILTER_KEYS.map((k) => [k, text(query[k])])) as Record<(typeof FILTER_KEYS)[number], string>;
    if (!values.limit) values.limit = String(DEFAULT_LIMIT);
    const parsed = suggestFiltersSchema.safeParse(query);
    const [targets, options] = await Promise.all([listDraftTargets(ctx), listFilterOptions(ctx)]);
    const common = {
      title: 'Suggested behaviours',
      values,
      maxLimit: MAX_LIMIT,
      providers: options.providers.map((p) => ({ value: p, selected: p === values.provider })),
      models: options.models.map((m) => ({ value: m, selected: m === values.model })),
    };
    if (!parsed.success) {
      const problem = new AppError('validation_failed', 'Some filters could not be read: see the messages beside them.', { fields: fieldErrors(parsed.error) });
      res.status(errorStatus[problem.id]).render('pages/suggestions/index', { ...common, formError: problem.message, errors: problem.details?.fields, result: null });
      return;
    }
    const suggestions = await findSuggestions(ctx, parsed.data);
    res.render('pages/suggestions/index', { ...common, errors: {}, result: resultView(suggestions, targets, parsed.data) });
  });

  router.post('/suggestions/behaviours', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.suggest');
    authorize(req.auth.actor, 'ethogram.edit', { status: 'draft' });
    const body: Record<string, unknown> = req.body ?? {};
    const ethogramSlug = text(body.ethogram).trim();
    try {
      const observationIds = parseOrThrow(promptingObservations, text(body.observations), 'The cluster');
      const input = parseOrThrow(behaviourInput, { ...behaviourInputFromForm({ ...body, colour: text(body.colour) || DEFAULT_COLOUR }) }, 'The behaviour');
      if (!input.code) throw new AppError('validation_failed', 'The behaviour needs a code.', { fields: { code: 'Enter a code, e.g. "PIRATE-SPEECH".' } });
      const done = await draftBehaviourFromCluster(ctxOf(req, deps), { ethogramSlug, behaviour: { ...input, code: input.code }, observationIds });
      flash(
        res,
        `Added ${done.behaviour.code} to ${done.openedDraft ? 'a new draft,' : 'draft'} version ${done.draft.number} of ${done.ethogram.name}. Review it here before you publish.`,
      );
      res.redirect(303, `/ethograms/${done.ethogram.slug}/versions/${done.draft.number}/behaviours/${done.behaviour.code}`);
    } catch (err) {
      keepLayoutLocals(req, res, deps);
      const targets = await listDraftTargets(ctxOf(req, deps));
      const echo = Object.fromEntries(FORM_FIELDS.map((name) => [name, text(body[name])]));
      const folded = err instanceof AppError && err.details?.fields ? new AppError(err.id, err.message, { ...err.details, fields: formFieldErrors(err.details.fields, [...behaviourFormFields, 'observations']) }) : err;
      rerenderForm(res, 'pages/suggestions/draft-behaviour', folded, {
        title: 'Turn a cluster into a draft behaviour',
        failedForm: 'suggestion',
        form: formView(echo, targets, { number: 0 }),
        back: `/suggestions${echo.back ? `?${echo.back}` : ''}`,
      });
    }
  });

  return router;
}

/** What the layout reads, which the app only sets up for GETs: needed when a failed POST renders a page. */
function keepLayoutLocals(req: Request, res: Response, deps: AppDeps): void {
  const actor = req.auth.actor;
  Object.assign(res.locals, {
    csrfToken: csrfToken(req, res, deps),
    actor,
    signedIn: actor.kind === 'user',
    currentPath: req.path,
    isResearcher: actor.kind === 'user' && actor.role !== 'contributor',
    isAdmin: actor.kind === 'user' && actor.role === 'admin',
  });
}

/** The form's select options (ethograms; categories grouped by ethogram) around its values. */
function formView(values: Record<string, string>, targets: DraftTarget[], cluster: { number: number }) {
  return {
    id: `s${cluster.number}`,
    values,
    ethograms: targets.map((t) => ({
      slug: t.slug,
      label: `${t.name}: ${t.hasOpenDraft ? `open draft v${t.draftNumber}` : `new draft v${t.draftNumber}`}`,
      selected: t.slug === values.ethogram,
    })),
    categoryGroups: targets
      .filter((t) => t.categories.length > 0)
      .map((t) => ({
        label: t.name,
        options: t.categories.map((c) => ({ key: c.key, name: c.name, selected: t.slug === values.ethogram && c.key === values.category })),
      })),
    kinds: behaviourKinds.map((k) => ({ value: k, selected: k === values.kind })),
  };
}

function resultView(s: Suggestions, targets: DraftTarget[], filters: SuggestFilters) {
  const target = targets.find((t) => t.isDefault) ?? targets[0];
  const taken = [...(target?.codes ?? [])];
  const back = suggestQueryString(filters);
  return {
    considered: s.considered,
    truncated: s.truncated,
    limit: s.limit,
    k: s.k,
    silhouette: s.silhouette === null ? null : s.silhouette.toFixed(3),
    tried: s.tried.map((t) => ({ k: t.k, silhouette: t.silhouette.toFixed(3), chosen: t.k === s.k })),
    unclustered: s.unclustered,
    unclusteredMembers: s.unclusteredMembers,
    moreUnclustered: s.unclustered - s.unclusteredMembers.length,
    loadMs: Math.round(s.timings.loadMs),
    clusterMs: Math.round(s.timings.clusterMs),
    cached: s.cached,
    hasTargets: targets.length > 0,
    clusters: s.clusters.map((c) => {
      const suggestion = suggestBehaviour({ topTerms: c.topTerms, excerpt: c.representatives[0]?.excerpt.text ?? '' }, taken);
      taken.push(suggestion.code); // two clusters never get the same code
      const values = {
        ethogram: target?.slug ?? '',
        code: suggestion.code,
        name: suggestion.name,
        category: target?.categories[0]?.key ?? '',
        kind: 'event',
        definition: suggestion.definition,
        inclusion: suggestion.inclusion,
        'examples.positive': suggestion.positiveExample,
        colour: DEFAULT_COLOUR,
        observations: c.memberIds.slice(0, PROMPTING_OBSERVATIONS_KEPT).join(','),
        clusterSize: String(c.size),
        back,
      };
      return {
        ...c,
        cohesion: c.cohesion.toFixed(2),
        moreMembers: c.size - c.members.length,
        form: formView(values, targets, c),
      };
    }),
  };
}

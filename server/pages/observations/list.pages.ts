import express, { type Router } from 'express';
import { authorize } from '../../../core/policy.ts';
import { fieldErrors } from '../../../core/validation.ts';
import { listFiltersSchema, sorts } from '../../../observations/observation.input.ts';
import type { ObservationListItem, ObservationListPage } from '../../../observations/observation.presenter.ts';
import { listFilterOptions, listObservations, listTags } from '../../../observations/observation.queries.ts';
import { observationStatuses } from '../../../observations/observation.schema.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../../http/request-context.ts';
import { loadCodePicker } from './code-picker.ts';

/** The filter fields of the list form, in the order they appear in links. */
const FILTER_KEYS = ['q', 'provider', 'model', 'behaviour', 'category', 'tag', 'status', 'from', 'to', 'sort', 'pageSize'] as const;
type RawFilters = Record<(typeof FILTER_KEYS)[number], string>;

const sortLabels: Record<(typeof sorts)[number], string> = {
  observed_desc: 'Newest observed',
  observed_asc: 'Oldest observed',
  created_desc: 'Recently added',
  relevance: 'Best match',
};

/** `GET /observations`: search, filters, sorting and pagination in one GET form that works without JavaScript. */
export function observationListPage(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/observations', async (req, res) => {
    authorize(req.auth.actor, 'observation.list');
    const ctx = ctxOf(req, deps);
    const raw = Object.fromEntries(FILTER_KEYS.map((k) => [k, firstString(req.query[k]).trim()])) as RawFilters;
    const parsed = listFiltersSchema.safeParse({ ...raw, pageSize: raw.pageSize || undefined, page: firstString(req.query.page) || undefined });
    const [options, tags, picker] = await Promise.all([listFilterOptions(ctx), listTags(ctx), loadCodePicker(deps.db)]);
    let result: ObservationListPage | null = null;
    if (parsed.success) result = await listObservations(ctx, parsed.data);
    const errors = parsed.success ? {} : fieldErrors(parsed.error);
    const searching = !!raw.q;
    const currentSort = raw.sort || (searching ? 'relevance' : 'observed_desc');

    res.status(parsed.success ? 200 : 422).render('pages/observation-list', {
      title: 'Observations',
      values: raw,
      errors,
      formError: parsed.success ? undefined : 'Some filters could not be read: see the messages beside them.',
      anonymous: req.auth.actor.kind !== 'user',
      searching,
      filtered: FILTER_KEYS.some((k) => k !== 'sort' && k !== 'pageSize' && raw[k]),
      filtersOpen: FILTER_KEYS.some((k) => !['q', 'sort', 'pageSize'].includes(k) && raw[k]) || !parsed.success,
      items: result?.data.map(listItem) ?? [],
      total: result ? `${result.total.toLocaleString('en')}${result.totalCapped ? '+' : ''}` : '0',
      totalIsOne: result?.total === 1 && !result.totalCapped,
      pagination: result && paginate(raw, result),
      providers: options.providers.map((p) => ({ value: p, selected: p === raw.provider })),
      models: options.models.map((m) => ({ value: m, selected: m === raw.model })),
      tags: tags.slice(0, 200).map((t) => ({ value: t.tag, count: t.count, selected: t.tag === raw.tag.toLowerCase() })),
      behaviourGroups: (picker?.groups ?? []).map((g) => ({
        name: g.name,
        behaviours: g.behaviours.map((b) => ({ code: b.code, name: b.name, selected: b.code === raw.behaviour })),
      })),
      categories: (picker?.categories ?? []).map((c) => ({ ...c, selected: c.key === raw.category })),
      statuses: observationStatuses.map((s) => ({ value: s, selected: s === raw.status })),
      sorts: sorts.map((s) => ({ value: s, label: sortLabels[s], selected: s === currentSort })),
    });
  });

  return router;
}

function firstString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

/** The list URL with the same filters and another page. */
export function listHref(raw: Partial<RawFilters>, page: number): string {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (raw[k]) params.set(k, raw[k]!);
  if (page > 1) params.set('page', String(page));
  const qs = params.toString();
  return qs ? `/observations?${qs}` : '/observations';
}

function paginate(raw: RawFilters, result: ObservationListPage) {
  const { page, totalPages } = result;
  return {
    page,
    totalPages: Math.max(totalPages, 1),
    prevHref: page > 1 ? listHref(raw, Math.min(page - 1, Math.max(totalPages, 1))) : null,
    nextHref: page < totalPages ? listHref(raw, page + 1) : null,
    show: totalPages > 1 || page > 1,
  };
}

function listItem(item: ObservationListItem) {
  return {
    ...item,
    href: `/observations/${item.id}`,
    tagLinks: item.tags.map((tag) => ({ tag, href: listHref({ tag }, 1) })),
    behaviourLinks: item.behaviours.map((b) => ({ ...b, href: listHref({ behaviour: b.code }, 1) })),
  };
}

import express, { type Request, type Response, type Router } from 'express';
import { AppError } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { fieldErrors, parseOrThrow } from '../../../core/validation.ts';
import { bulkTag, bulkTagSchema } from '../../../observations/bulk-tag.command.ts';
import { listFiltersSchema, sorts } from '../../../observations/observation.input.ts';
import { hasNextPage, type ObservationListItem, type ObservationListPage } from '../../../observations/observation.presenter.ts';
import { listFilterOptions, listObservations, listTags } from '../../../observations/observation.queries.ts';
import { observationStatuses } from '../../../observations/observation.schema.ts';
import type { AppDeps } from '../../app-deps.ts';
import { errorStatus } from '../../http/error-status.ts';
import { ctxOf } from '../../http/request-context.ts';
import { exportPath } from '../../http/routes/exports.routes.ts';
import { authorizeBulkTagging } from '../../http/routes/tags.routes.ts';
import type { ExportFormat } from '../../../observations/export/export-observations.ts';
import { flash } from '../form.ts';
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

  /** Renders the list for the request's query; a failed bulk tagging comes back with its input and message. */
  async function renderList(req: Request, res: Response, bulk?: { tags: string; error: string; status: number; selected: string[] }) {
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

    const query = listQueryString(raw, result?.page ?? 1);
    const selected = new Set(bulk?.selected ?? []);
    res.status(bulk?.status ?? (parsed.success ? 200 : 422)).render('pages/observation-list', {
      title: 'Observations',
      // Bulk tagging: signed-in people select observations on the page (each is authorized when submitted).
      bulkTagging: req.auth.actor.kind === 'user' && (result?.data.length ?? 0) > 0,
      bulkAction: `/observations/bulk-tags${query ? `?${query}` : ''}`,
      bulk: bulk ? { tags: bulk.tags, error: bulk.error } : { tags: '', error: '' },
      values: raw,
      errors,
      formError: parsed.success ? undefined : 'Some filters could not be read: see the messages beside them.',
      anonymous: req.auth.actor.kind !== 'user',
      searching,
      filtered: FILTER_KEYS.some((k) => k !== 'sort' && k !== 'pageSize' && raw[k]),
      filtersOpen: FILTER_KEYS.some((k) => !['q', 'sort', 'pageSize'].includes(k) && raw[k]) || !parsed.success,
      items: result?.data.map((item) => ({ ...listItem(item), selected: selected.has(item.id) })) ?? [],
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
      exportLinks: result && result.total > 0 ? { ...exportLinks(raw), count: `${result.total.toLocaleString('en')}${result.totalCapped ? '+' : ''}`, one: result.total === 1 && !result.totalCapped } : null,
    });
  }

  router.get('/observations', (req, res) => renderList(req, res));

  /**
   * `POST /observations/bulk-tags?<the list's filters>`: adds or removes tags on the selected observations, all
   * or nothing, then shows the same list again. A problem re-renders the list with the selection and the typed
   * tags kept and the message beside the tags field.
   */
  router.post('/observations/bulk-tags', async (req, res) => {
    if (req.auth.actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to tag observations.');
    const ids = ([] as unknown[]).concat(req.body?.ids ?? []).filter((v): v is string => typeof v === 'string');
    const tagsText = typeof req.body?.tags === 'string' ? req.body.tags : '';
    const tags = tagsText.split(',').map((t: string) => t.trim()).filter(Boolean);
    const removing = req.body?.action === 'remove';
    try {
      const input = parseOrThrow(bulkTagSchema, { ids, add: removing ? [] : tags, remove: removing ? tags : [] }, 'The bulk tagging');
      const ctx = ctxOf(req, deps);
      await authorizeBulkTagging(ctx, req.auth.actor, [...new Set(input.ids)]);
      const result = await bulkTag(ctx, input);
      const verb = removing ? 'Removed' : 'Added';
      flash(res, `${verb} ${tags.join(', ')} ${removing ? 'from' : 'to'} ${result.changed.length} observation${result.changed.length === 1 ? '' : 's'}${result.unchanged.length ? ` (${result.unchanged.length} unchanged)` : ''}.`);
      const query = new URLSearchParams(req.query as Record<string, string>).toString();
      res.redirect(303, `/observations${query ? `?${query}` : ''}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.id === 'internal' || err.id === 'unauthenticated') throw err;
      const fields = (err.details?.fields ?? {}) as Record<string, string>;
      const error = fields.ids ?? fields.add ?? fields.remove ?? Object.entries(fields).find(([k]) => k.startsWith('add') || k.startsWith('remove'))?.[1] ?? err.message;
      await renderList(req, res, { tags: tagsText, error: error === err.message ? error : `${err.message} ${error}`, status: errorStatus[err.id], selected: ids });
    }
  });

  return router;
}

/** The list's query string (filters and page), as the bulk form posts back to. */
function listQueryString(raw: Partial<RawFilters>, page: number): string {
  const href = listHref(raw, page);
  const at = href.indexOf('?');
  return at === -1 ? '' : href.slice(at + 1);
}

function firstString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

/** Links to the API's exports with the list's filters (sort and page size do not change the exported set). */
function exportLinks(raw: Partial<RawFilters>): Record<ExportFormat, string> {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (raw[k] && k !== 'sort' && k !== 'pageSize') params.set(k, raw[k]!);
  const qs = params.toString();
  const href = (format: ExportFormat) => `/api/v1${exportPath(format)}${qs ? `?${qs}` : ''}`;
  return { jsonl: href('jsonl'), csv: href('csv'), zip: href('zip') };
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
  const { page, totalPages, totalCapped } = result;
  return {
    page,
    totalPages: totalCapped ? `${Math.max(totalPages, page).toLocaleString('en')}+` : Math.max(totalPages, 1),
    prevHref: page > 1 ? listHref(raw, totalCapped ? page - 1 : Math.min(page - 1, Math.max(totalPages, 1))) : null,
    nextHref: hasNextPage(result) ? listHref(raw, page + 1) : null,
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

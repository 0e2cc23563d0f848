import express, { type Request, type Response, type Router } from 'express';
import { notFound } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { fieldErrors } from '../../core/validation.ts';
import { captureListFiltersSchema } from '../../observations/capture/capture-list.input.ts';
import type { CaptureListItem, CaptureView } from '../../observations/capture/capture.presenter.ts';
import { captureFilterOptions, getCapture, listCaptures, loadCaptureRef } from '../../observations/capture/capture.queries.ts';
import { captureOutcomes, captureSources } from '../../observations/capture/capture.schema.ts';
import { promoteCapture } from '../../observations/capture/promote-capture.command.ts';
import { promotionDefaults } from '../../observations/capture/promotion-defaults.ts';
import { rebuildExchange } from '../../observations/capture/rebuild-exchange.ts';
import { visibilities } from '../../observations/observation.schema.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { flash } from './form.ts';
import { preparePageLocals } from './observations/page-locals.ts';
import { isInputProblem } from './observations/parse-form.ts';
import { transcriptView } from './observations/transcript-view.ts';

/** The filter fields of the field log form, in the order they appear in links. */
const FILTER_KEYS = ['q', 'model', 'upstream', 'source', 'outcome', 'flagged', 'from', 'to', 'limit'] as const;
type RawFilters = Record<(typeof FILTER_KEYS)[number], string>;

/** The promote form's fields as the person typed them. */
interface PromoteValues { title: string; surprise: string; visibility: string }

/**
 * The field log pages: `/captures` (filters, text search, newest first, keyset pages), `/captures/:id` (the
 * exchange: transcript, raw bodies, rebuilt message, timings, usage) and the promote form on it, which makes the
 * capture an observation and goes there. They call the same queries and command as the JSON API.
 */
export function capturePages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/captures', async (req, res) => {
    authorize(req.auth.actor, 'capture.list');
    const ctx = ctxOf(req, deps);
    const raw = Object.fromEntries(FILTER_KEYS.map((k) => [k, firstString(req.query[k]).trim()])) as RawFilters;
    const cursor = firstString(req.query.cursor).trim();
    const parsed = captureListFiltersSchema.safeParse({ ...raw, limit: raw.limit || undefined, cursor: cursor || undefined });
    const [options, page] = await Promise.all([captureFilterOptions(ctx), parsed.success ? listCaptures(ctx, parsed.data) : null]);
    const filtered = FILTER_KEYS.some((k) => k !== 'limit' && raw[k]);
    res.status(parsed.success ? 200 : 422).render('pages/captures/list', {
      title: 'Field log',
      values: raw,
      flaggedChecked: !!raw.flagged && !['false', '0', 'off'].includes(raw.flagged.toLowerCase()),
      errors: parsed.success ? {} : fieldErrors(parsed.error),
      formError: parsed.success ? undefined : 'Some filters could not be read: see the messages beside them.',
      seesAll: can(req.auth.actor, 'capture.listAll'),
      filtered,
      rows: page?.data.map(listRow) ?? [],
      models: options.models.map((m) => ({ value: m, selected: m === raw.model })),
      upstreams: options.upstreams.map((u) => ({ value: u, selected: u === raw.upstream })),
      sources: captureSources.map((s) => ({ value: s, selected: s === raw.source })),
      outcomes: captureOutcomes.map((o) => ({ value: o, selected: o === raw.outcome })),
      olderHref: page?.nextCursor ? listHref(raw, page.nextCursor) : null,
      newestHref: cursor ? listHref(raw) : null,
    });
  });

  router.get('/captures/:id', async (req, res) => {
    const capture = await loadReadable(req, deps);
    renderCapturePage(req, res, capture);
  });

  router.post('/captures/:id/promote', async (req, res) => {
    const id = parseId(req.params.id, 'That capture');
    const ref = await loadCaptureRef(deps.db, id);
    if (!ref) throw notFound('That capture');
    authorize(req.auth.actor, 'capture.promote', ref);
    const values: PromoteValues = { title: field(req, 'title'), surprise: field(req, 'surprise'), visibility: field(req, 'visibility') };
    try {
      const observation = await promoteCapture(ctxOf(req, deps), id, values);
      flash(res, 'Promoted to an observation: everything was filled in from the capture.');
      res.redirect(303, `/observations/${observation.id}`);
    } catch (err) {
      if (!isInputProblem(err)) throw err;
      preparePageLocals(req, res, deps);
      const capture = await loadReadable(req, deps);
      renderCapturePage(req, res, capture, { status: errorStatus[err.id], formError: err.message, values, errors: (err.details?.fields ?? {}) as Record<string, string> });
    }
  });

  return router;
}

/** A capture the actor may read, or the error that says why not (sign in, forbidden, not found). */
async function loadReadable(req: Request, deps: AppDeps): Promise<CaptureView> {
  const id = parseId(req.params.id, 'That capture');
  const ref = await loadCaptureRef(deps.db, id);
  if (!ref) throw notFound('That capture');
  authorize(req.auth.actor, 'capture.read', ref);
  const capture = await getCapture(deps.db, id);
  if (!capture) throw notFound('That capture');
  return capture;
}

function renderCapturePage(
  req: Request,
  res: Response,
  capture: CaptureView,
  problems: { status?: number; formError?: string; values?: PromoteValues; errors?: Record<string, string> } = {},
): void {
  const defaults = promotionDefaults(capture);
  const values = problems.values ?? { title: defaults.title, surprise: defaults.surprise, visibility: 'members' };
  const canPromote = can(req.auth.actor, 'capture.promote', { capturedBy: capture.capturedBy.id });
  res.status(problems.status ?? 200).render('pages/captures/show', {
    title: `Capture: ${capture.model ?? capture.path}`,
    capture,
    formError: problems.formError,
    startedAt: capture.startedAt,
    statusText: capture.httpStatus === null ? 'no answer' : String(capture.httpStatus),
    transcriptMessages: capture.transcript ? transcriptView(capture.transcript) : null,
    noTranscriptReason: capture.transcript ? null : (rebuildExchange(capture).problem ?? 'The exchange could not be read as messages.'),
    requestHeaderRows: headerRows(capture.requestHeaders),
    responseHeaderRows: headerRows(capture.responseHeaders),
    rebuiltJson: capture.rebuilt ? JSON.stringify(capture.rebuilt, null, 2) : null,
    timingRows: [
      { label: 'Started', value: capture.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') },
      { label: 'First byte', value: ms(capture.timings.firstByteMs) },
      { label: 'First token', value: ms(capture.timings.firstTokenMs) },
      { label: 'Duration', value: ms(capture.timings.durationMs) },
    ],
    usageRows: usageRows(capture),
    promote: canPromote && !capture.observationId && !!capture.transcript
      ? {
          values,
          errors: problems.errors ?? {},
          visibilities: visibilities.map((v) => ({ value: v, label: v === 'public' ? 'Public' : 'Members only', selected: v === values.visibility })),
        }
      : null,
  });
}

/** One row of the field log table, with its numbers formatted for reading. */
function listRow(item: CaptureListItem) {
  return {
    ...item,
    href: `/captures/${item.id}`,
    time: item.startedAt.slice(0, 19).replace('T', ' '),
    statusText: item.httpStatus === null ? '—' : String(item.httpStatus),
    ttft: ms(item.timings.firstTokenMs),
    duration: ms(item.timings.durationMs),
    tokens: tokens(item),
  };
}

function tokens(item: Pick<CaptureListItem, 'usage'>): string {
  const u = item.usage;
  if (!u) return '—';
  const input = u.inputTokens ?? '?';
  const output = u.outputTokens ?? '?';
  return `${input} → ${output}`;
}

function usageRows(capture: CaptureView): { label: string; value: string }[] {
  const u = capture.usage;
  if (!u) return [];
  const labels: [keyof NonNullable<CaptureView['usage']>, string][] = [
    ['inputTokens', 'Input tokens'],
    ['outputTokens', 'Output tokens'],
    ['reasoningTokens', 'Reasoning tokens'],
    ['cacheReadTokens', 'Cache read tokens'],
    ['cacheWriteTokens', 'Cache write tokens'],
    ['totalTokens', 'Total tokens'],
  ];
  return labels.flatMap(([key, label]) => (u[key] === undefined ? [] : [{ label, value: u[key]!.toLocaleString('en') }]));
}

function headerRows(headers: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(headers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
}

function ms(value: number | null): string {
  if (value === null) return '—';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value).toLocaleString('en')} ms`;
}

/** The field log URL with the same filters, from a cursor (or from the newest). */
function listHref(raw: RawFilters, cursor?: string): string {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (raw[k]) params.set(k, raw[k]);
  if (cursor) params.set('cursor', cursor);
  const qs = params.toString();
  return qs ? `/captures?${qs}` : '/captures';
}

function firstString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

function field(req: Request, name: string): string {
  const v: unknown = req.body?.[name];
  return typeof v === 'string' ? v : '';
}

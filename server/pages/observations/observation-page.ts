import type { Request, Response } from 'express';
import type { Actor } from '../../../accounts/actor.ts';
import { notFound, type FieldErrors } from '../../../core/errors.ts';
import { authorize, can } from '../../../core/policy.ts';
import type { CodingView, ObservationView } from '../../../observations/observation.presenter.ts';
import { getObservation } from '../../../observations/observation.queries.ts';
import { liveAssignmentOf } from '../../../observations/review/assignment.queries.ts';
import { findSimilarObservations, lookAlikeFingerprint } from '../../../observations/similar/similar.queries.ts';
import { observationStatuses } from '../../../observations/observation.schema.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../../http/request-context.ts';
import { parseId } from '../../http/validate.ts';
import { experimentsPanel } from '../experiments-panel.ts';
import { asOfPanel } from './as-of-panel.ts';
import { classifyPanel } from './classify-panel.ts';
import { loadCodePicker } from './code-picker.ts';
import { blankCodingValues, modifierFields, type CodingFormValues } from './coding-form.ts';
import { refOf } from './observation-ref.ts';
import { samplingParameters } from './observation-form.ts';
import { transcriptView } from './transcript-view.ts';

/** What a failed action on the observation page brings back: the form's input, its problems, the message. */
export interface PageProblems {
  status?: number;
  formError?: string;
  coding?: { values: CodingFormValues; errors: FieldErrors };
  tags?: { value: string; error: string };
  triage?: { status: string; duplicateOf: string; errors: FieldErrors };
}

/**
 * Loads an observation the actor may read, or throws: not found for unknown ids and for deleted observations
 * the actor may not see (a tombstone should not reveal itself), sign-in or forbidden otherwise.
 */
export async function loadReadable(req: Request, deps: AppDeps): Promise<ObservationView> {
  const id = parseId(req.params.id, 'That observation');
  const observation = await getObservation(ctxOf(req, deps), id);
  if (!observation) throw notFound('That observation');
  if (observation.deletedAt && !can(req.auth.actor, 'observation.read', refOf(observation))) throw notFound('That observation');
  authorize(req.auth.actor, 'observation.read', refOf(observation));
  return observation;
}

/** Renders the observation page (`pages/observation`), with any problems from a failed action. */
export async function renderObservationPage(req: Request, res: Response, deps: AppDeps, observation: ObservationView, problems: PageProblems = {}): Promise<void> {
  const actor = req.auth.actor;
  const ref = refOf(observation);
  const canCode = can(actor, 'coding.create', ref);
  const picker = await loadCodePicker(deps.db);
  const modifierOrder = picker?.modifierSets.map((m) => m.key) ?? [];
  const messageNumbers = new Map(observation.transcript.messages.map((m, i) => [m.id, i + 1]));
  const coding = problems.coding ?? { values: blankCodingValues(), errors: {} };
  const active = observation.codings.filter((c) => !c.withdrawnAt);
  const withdrawn = observation.codings.filter((c) => c.withdrawnAt);
  const myAssignment = actor.kind === 'user' ? await liveAssignmentOf(deps.db, actor.id, observation.id) : null;
  const similar = await similarTo(req, deps, observation);
  const classify = await classifyPanel(deps, actor, ref);
  const experiments = await experimentsPanel(deps.db, actor, { observation: observation.id });
  const asOf = await asOfPanel(deps.db, actor, observation, req.query.asOf);

  res.status(problems.status ?? 200).render('pages/observation', {
    similar,
    classify,
    experiments,
    asOf,
    canExperiment: !observation.deletedAt && can(actor, 'experiment.create'),
    title: observation.title,
    observation,
    formError: problems.formError,
    isDeleted: !!observation.deletedAt,
    myAssignment,
    proposedCount: active.filter((c) => c.status === 'proposed').length,
    provenanceRows: provenanceRows(observation),
    transcriptMessages: transcriptView(observation.transcript, observation.codings),
    activeCodings: active.map((c) => codingItem(c, actor, messageNumbers, modifierOrder)),
    withdrawnCodings: withdrawn.map((c) => codingItem(c, actor, messageNumbers, modifierOrder)),
    tagItems: observation.tags.map((tag) => ({
      tag,
      href: `/observations?tag=${encodeURIComponent(tag)}`,
      removeAction: `/observations/${observation.id}/tags/${encodeURIComponent(tag)}/delete`,
    })),
    evidenceLinks: observation.evidenceLinks.filter((u) => /^https?:\/\//i.test(u)),
    can: {
      edit: can(actor, 'observation.update', ref),
      delete: can(actor, 'observation.delete', ref),
      restore: can(actor, 'observation.restore', ref),
      triage: can(actor, 'observation.triage', ref),
      tag: can(actor, 'observation.tag', ref),
      code: canCode && !!picker,
      assign: can(actor, 'assignment.manage') && !observation.deletedAt,
      review: can(actor, 'coding.review', ref),
    },
    triage: {
      statuses: observationStatuses.map((s) => ({ value: s, selected: s === (problems.triage?.status ?? observation.status) })),
      duplicateOf: problems.triage?.duplicateOf ?? observation.duplicateOf ?? '',
      errors: problems.triage?.errors ?? {},
    },
    tagInput: problems.tags ?? { value: '', error: '' },
    coder: canCode && picker && {
      version: picker.version,
      groups: picker.groups,
      values: coding.values,
      errors: coding.errors,
      modifiers: modifierFields(picker.modifierSets, coding.values, coding.errors),
      messages: observation.transcript.messages.map((m, i) => ({
        id: m.id,
        label: `#${i + 1} ${m.role}${m.name ? ` (${m.name})` : ''}`,
        selected: m.id === coding.values.messageId,
      })),
      hotkeys: picker.groups.flatMap((g) => g.behaviours.filter((b) => b.hotkey).map((b) => ({ key: b.hotkey, code: b.code, name: b.name }))),
    },
  });
}

/** Near-duplicates offered on the page; researchers get a button marking this observation a duplicate of one. */
async function similarTo(req: Request, deps: AppDeps, observation: ObservationView) {
  if (observation.deletedAt) return null;
  const ctx = ctxOf(req, deps);
  const print = await lookAlikeFingerprint(ctx, observation);
  if (!print) return null;
  const items = await findSimilarObservations(ctx, print, { excludeId: observation.id });
  return items.map((item) => ({
    ...item,
    href: `/observations/${item.id}`,
    percent: Math.round(item.similarity * 100),
    isDuplicateTarget: observation.duplicateOf === item.id,
  }));
}

/** One row of the provenance table; `href` makes the value a link, `title` explains where it leads. */
interface ProvenanceRow { label: string; value: string; mono?: boolean; href?: string; title?: string }

function provenanceRows(o: ObservationView): ProvenanceRow[] {
  const p = o.provenance;
  const rows: ProvenanceRow[] = [
    { label: 'Provider', value: o.provider },
    { label: 'Model', value: o.model, mono: true },
    { label: 'Model version', value: o.modelVersion ?? 'not recorded', mono: !!o.modelVersion },
  ];
  const optional: [string, string | undefined, boolean?][] = [
    ['Interface', p.interface],
    ['Local runtime', p.runtime],
    ['Quantization', p.quantization, true],
    ['Harness', p.harness],
    ['Endpoint', p.endpoint, true],
    ['Sampling', p.sampling && Object.keys(p.sampling).length ? inOrder(Object.entries(p.sampling), SAMPLING_ORDER).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ') : undefined, true],
    ['Tools', p.tools?.length ? p.tools.join(', ') : undefined, true],
    ['System prompt sha256', p.systemPromptSha256, true],
  ];
  for (const [label, value, mono] of optional) if (value) rows.push({ label, value, ...(mono ? { mono } : {}) });
  rows.push({ label: 'Capture path', value: p.capture, mono: true });
  rows.push(...captureOriginRows(p as unknown as Record<string, unknown>));
  rows.push({ label: 'Observed', value: o.observedAt.slice(0, 10) });
  rows.push({ label: 'Submitted by', value: o.submittedBy.displayName });
  rows.push({ label: 'Raw payload sha256', value: o.rawSha256, mono: true, href: `/api/v1/observations/${o.id}/raw`, title: `The raw payload as submitted (sha256 ${o.rawSha256})` });
  return rows;
}

/**
 * Where a captured or imported observation came from, so a reader can cross back to the source: the field-log
 * capture it was promoted from (the capture page decides who may see it), or the imported file and record.
 */
function captureOriginRows(p: Record<string, unknown>): ProvenanceRow[] {
  const text = (key: string) => (typeof p[key] === 'string' && p[key] !== '' ? (p[key] as string) : undefined);
  const rows: ProvenanceRow[] = [];
  const upstream = text('upstream');
  if (upstream) rows.push({ label: 'Upstream', value: upstream, mono: true });
  const captureId = text('captureId');
  if (captureId && /^[0-9a-f-]{36}$/i.test(captureId)) rows.push({ label: 'Field-log capture', value: captureId.slice(0, 8), mono: true, href: `/captures/${captureId}`, title: 'The field-log capture this observation was promoted from' });
  const sourceFormat = text('sourceFormat');
  if (sourceFormat) rows.push({ label: 'Imported from', value: [sourceFormat, text('fileName')].filter(Boolean).join(', '), mono: true });
  const recordId = text('recordId');
  if (recordId) rows.push({ label: 'Source record', value: recordId, mono: true });
  return rows;
}

const SAMPLING_ORDER = samplingParameters.map((p) => p.key as string);

/** Entries with the known keys first, in that order (JSONB keeps keys in its own order), then the rest by name. */
function inOrder<V>(entries: [string, V][], order: string[]): [string, V][] {
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return [...entries].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function codingItem(c: CodingView, actor: Actor, messageNumbers: Map<string, number>, modifierOrder: string[]) {
  const where = c.span
    ? `message #${messageNumbers.get(c.span.messageId) ?? c.span.messageId}, part ${c.span.partIndex + 1}, characters ${c.span.start}–${c.span.end}`
    : 'whole observation';
  const modifiers = inOrder(Object.entries(c.modifiers ?? {}), modifierOrder)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join('; ');
  return {
    ...c,
    where,
    modifiersText: modifiers,
    quote: c.span?.quote ?? '',
    anchor: c.span ? `#message-${c.span.messageId}` : '',
    canWithdraw: !c.withdrawnAt && can(actor, 'coding.withdraw', { coderId: c.coder.id }),
  };
}

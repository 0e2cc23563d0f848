import { randomUUID } from 'node:crypto';
import { hasRole } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import { invalid, type FieldErrors } from '../core/errors.ts';
import { cachedDefaultVersion, publishedBehavioursByCode, type BehaviourRow, type DefaultVersion } from '../ethograms/default-version.ts';
import type { ObservationInput } from './observation.input.ts';
import { presentCoding, presentObservation, type CodingView, type ObservationRecord, type ObservationView } from './observation.presenter.ts';
import type { Provenance } from './observation.schema.ts';
import { sha256Hex } from '../core/sha256.ts';
import { normaliseTags, systemPromptSha256 } from './observation-text.ts';
import { readTranscript } from './read-transcript.ts';
import { requireUser } from './observation-edit.ts';
import { observationsChanged } from './observation.queries.ts';
import { writeObservation } from './observation-writer.ts';

/**
 * How the observation arrived: the web form, the JSON API, or promoted from a field-log capture (`proxy`, `sdk`);
 * `raw` is the text as sent (pasted text, JSON body, or the raw exchange). `provenance` adds facts of the capture
 * path (a capture's upstream and id) beside the ones the submission carries.
 */
export interface CaptureInfo { method: 'form' | 'api' | 'proxy' | 'sdk'; raw?: string; provenance?: Record<string, unknown> }

/**
 * Records a new observation: reads the transcript, checks the codes against the default published ethogram,
 * keeps the raw payload with its sha256, the provenance, the search vector, the tags, one whole-observation
 * coding per code and the event.
 *
 * The transcript's text joins the search vector a moment later, with its near-duplicate fingerprint, through the
 * search indexer (one UPDATE for both): to_tsvector over a 10 KB transcript is most of what a row costs
 * PostgreSQL, fingerprinting it was about an eighth of the ingestion rate, and neither need delay the answer.
 * An idle indexer starts on them as soon as the row is committed.
 * This is the ingestion hot path, so everything is written by ONE statement (an INSERT with data-modifying
 * CTEs, atomic like a transaction, in one round trip), shared with the observations recorded at the same time
 * (see observation-writer.ts); nothing is read back, and the ethogram lookups are cached.
 */
export async function recordObservation(ctx: Ctx, input: ObservationInput, capture: CaptureInfo): Promise<ObservationView> {
  const actor = requireUser(ctx, 'record an observation');
  const read = readTranscript(input.transcript, input.transcriptFormat);
  const { transcript, warnings, json: transcriptJson } = read;
  const coded = await resolveCodes(ctx, input.codes);

  const id = randomUUID();
  const now = ctx.now();
  const raw = capture.raw ?? read.text;
  const rawSha256 = sha256Hex(raw);
  const tags = normaliseTags(input.tags);
  const provenance: Provenance = { ...buildProvenance(capture.method, input, systemPromptSha256(transcript)), ...capture.provenance, capture: capture.method };
  const codingStatus = hasRole(actor, 'researcher') ? 'accepted' : 'proposed';
  // Ids in ascending order, so reading codings back (ordered by created_at, id) keeps the submitted order.
  const codingIds = coded.behaviours.map(() => randomUUID()).sort();
  const codings = coded.behaviours.map((b, i) => ({ id: codingIds[i]!, behaviour: b }));
  const nowIso = now.toISOString();

  await writeObservation(ctx.db, {
    observation: {
      id,
      title: input.title,
      surprise: input.surprise,
      visibility: input.visibility,
      provider: input.provider,
      model: input.model,
      modelVersion: input.modelVersion ?? null,
      provenanceJson: JSON.stringify(provenance),
      observedAt: input.observedAt.toISOString(),
      submittedBy: actor.id,
      rawPayload: raw,
      rawSha256,
      transcriptJson,
      evidenceLinksJson: JSON.stringify(input.evidenceLinks),
      tags,
      createdAt: nowIso,
    },
    codings: codings.map((c) => ({ id: c.id, ethogramVersionId: coded.version!.id, behaviourId: c.behaviour.id, status: codingStatus })),
    event: {
      actorId: actor.id,
      payloadJson: JSON.stringify({ title: input.title, capture: capture.method, codes: codings.map((c) => c.behaviour.code), rawSha256 }),
    },
  });
  observationsChanged();

  const row: ObservationRecord = {
    id,
    title: input.title,
    surprise: input.surprise,
    status: 'submitted',
    duplicateOf: null,
    visibility: input.visibility,
    provider: input.provider,
    model: input.model,
    modelVersion: input.modelVersion ?? null,
    provenance,
    observedAt: input.observedAt,
    createdAt: now,
    updatedAt: now,
    revision: 1,
    submittedBy: actor.id,
    rawSha256,
    transcript,
    evidenceLinks: input.evidenceLinks,
    tags,
    deletedAt: null,
  };
  const person = { id: actor.id, displayName: actor.displayName };
  const codingViews: CodingView[] = codings.map((c) =>
    presentCoding({
      id: c.id,
      observationId: id,
      messageId: null,
      partIndex: null,
      charStart: null,
      charEnd: null,
      quote: null,
      modifiers: {},
      method: 'manual',
      confidence: null,
      rationale: '',
      status: codingStatus,
      revision: 1,
      createdAt: now,
      withdrawnAt: null,
      behaviour: behaviourSummary(c.behaviour),
      ethogramVersion: { id: coded.version!.id, slug: coded.version!.slug, number: coded.version!.number },
      coder: person,
      withdrawnBy: null,
    }),
  );
  return presentObservation(row, person, codingViews, warnings);
}

/**
 * Looks the submitted codes up in the default published ethogram version. Unknown codes are a 422 naming each
 * one (`codes.N`), with where to find the valid codes.
 */
async function resolveCodes(ctx: Ctx, codes: string[]): Promise<{ version: DefaultVersion | null; behaviours: BehaviourRow[] }> {
  if (codes.length === 0) return { version: null, behaviours: [] };
  const version = await cachedDefaultVersion(ctx.db);
  if (!version) {
    throw invalid('Codes cannot be applied yet: no ethogram has been published. Submit without "codes", or publish an ethogram first.', {
      codes: 'No ethogram has been published yet, so there are no codes to apply.',
    });
  }
  const byCode = await publishedBehavioursByCode(ctx.db, version.id);
  const fields: FieldErrors = {};
  const found: BehaviourRow[] = [];
  const seen = new Set<string>();
  codes.forEach((raw, i) => {
    const code = raw.trim().toUpperCase();
    const behaviour = byCode.get(code);
    if (!behaviour) {
      fields[`codes.${i}`] =
        `"${raw}" is not a behaviour code in ${version.name} v${version.number}. ` +
        `The valid codes are listed at /ethograms/${version.slug} (or GET /api/v1/ethograms).`;
      return;
    }
    if (!seen.has(code)) found.push(behaviour);
    seen.add(code);
  });
  if (Object.keys(fields).length > 0) {
    const unknown = codes.filter((_c, i) => fields[`codes.${i}`]);
    throw invalid(`Unknown behaviour code${unknown.length > 1 ? 's' : ''}: ${unknown.map((c) => `"${c}"`).join(', ')}. Use codes from ${version.name} v${version.number}.`, fields);
  }
  return { version, behaviours: found };
}

export function behaviourSummary(b: BehaviourRow) {
  return { id: b.id, key: b.key, code: b.code, name: b.name, category: b.category, colour: b.colour };
}

/** The typed provenance of a submission; absent facts are left out rather than stored as nulls. */
export function buildProvenance(
  capture: string,
  input: Pick<ObservationInput, 'interface' | 'endpoint' | 'sampling' | 'harness' | 'runtime' | 'quantization'>,
  promptSha: string | undefined,
): Provenance {
  const p: Provenance = { capture };
  if (input.interface) p.interface = input.interface;
  if (input.endpoint) p.endpoint = input.endpoint;
  if (input.sampling && Object.keys(input.sampling).length > 0) p.sampling = input.sampling;
  if (promptSha) p.systemPromptSha256 = promptSha;
  if (input.harness) p.harness = input.harness;
  if (input.runtime) p.runtime = input.runtime;
  if (input.quantization) p.quantization = input.quantization;
  return p;
}

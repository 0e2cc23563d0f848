import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { conflict, invalid } from '../core/errors.ts';
import { inTransaction } from '../core/db.ts';
import { buildProvenance } from './record-observation.command.ts';
import type { ObservationPatch } from './observation.input.ts';
import { presentObservation, type ObservationRecord, type ObservationView } from './observation.presenter.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';
import { listCodings, observationsChanged } from './observation.queries.ts';
import { sha256Hex } from '../core/sha256.ts';
import { normaliseTags, searchVectorSql, systemPromptSha256, textArraySql, transcriptSearchText } from './observation-text.ts';
import { readTranscript } from './read-transcript.ts';
import { fingerprintColumnsSql, transcriptFingerprint } from './similar/fingerprint-pending.ts';

/**
 * Edits an observation: the previous state is kept as a revision and `revision` goes up by one. When the patch
 * carries the revision the editor saw and someone else has saved since, nothing is written and the editor is
 * told to reload (409). A new transcript is read again (same rules as on submission); search is recomputed.
 */
export async function updateObservation(ctx: Ctx, id: string, patch: ObservationPatch): Promise<ObservationView> {
  const actor = requireUser(ctx, 'edit an observation');
  // Read the transcript before taking any lock: a bad one is a 422 that stores nothing.
  const parsed = patch.transcript !== undefined ? readTranscript(patch.transcript, patch.transcriptFormat ?? 'auto') : undefined;
  if (Object.keys(patch).filter((k) => k !== 'revision' && k !== 'transcriptFormat').length === 0) {
    throw invalid('The edit changes nothing: send at least one field to change.');
  }

  const result = await inTransaction(ctx.db, async (tx) => {
    const { record: before, submitter } = await lockObservation(tx, id);
    if (patch.revision !== undefined && patch.revision !== before.revision) {
      throw conflict(
        `Someone else edited this observation after you opened it (you edited revision ${patch.revision}; it is now at revision ${before.revision}). ` +
          'Reload it, re-apply your changes and save again.',
        { currentRevision: before.revision, yourRevision: patch.revision },
      );
    }
    const now = ctx.now();
    const transcript = parsed?.transcript ?? before.transcript;
    const provenanceTouched = (['interface', 'endpoint', 'sampling', 'harness', 'runtime', 'quantization'] as const).some((k) => patch[k] !== undefined);
    const provenance =
      provenanceTouched || parsed
        ? buildProvenance(before.provenance.capture, { ...(before.provenance as ProvenanceFields), ...definedOnly(patch) }, systemPromptSha256(transcript))
        : before.provenance;
    const after: ObservationRecord = {
      ...before,
      title: patch.title ?? before.title,
      surprise: patch.surprise ?? before.surprise,
      provider: patch.provider ?? before.provider,
      model: patch.model ?? before.model,
      modelVersion: patch.modelVersion !== undefined ? patch.modelVersion : before.modelVersion,
      visibility: patch.visibility ?? before.visibility,
      observedAt: patch.observedAt ?? before.observedAt,
      evidenceLinks: patch.evidenceLinks ?? before.evidenceLinks,
      tags: patch.tags ? normaliseTags(patch.tags) : before.tags,
      transcript,
      provenance,
      rawSha256: parsed ? sha256Hex(parsed.text) : before.rawSha256,
      revision: before.revision + 1,
      updatedAt: now,
    };
    // An edited transcript is indexed and fingerprinted for near-duplicate detection at once, in this UPDATE: edits
    // are few, and whoever made one looks at the page next. New observations leave both to the search indexer.
    const rawUpdate: SQL = parsed
      ? sql`, raw_payload = ${parsed.text}, raw_sha256 = ${after.rawSha256}, transcript = ${parsed.json}::jsonb,
          ${fingerprintColumnsSql(transcriptFingerprint(transcript))}`
      : sql``;
    const searchChanged = parsed || patch.title !== undefined || patch.surprise !== undefined;
    const searchUpdate: SQL = searchChanged ? sql`, search = ${searchVectorSql(after.title, after.surprise, transcriptSearchText(transcript))}, search_pending = false` : sql``;
    await tx.execute(sql`UPDATE observations SET
        title = ${after.title}, surprise = ${after.surprise}, provider = ${after.provider}, model = ${after.model},
        model_version = ${after.modelVersion}, visibility = ${after.visibility}::visibility,
        observed_at = ${after.observedAt.toISOString()}::timestamptz, evidence_links = ${JSON.stringify(after.evidenceLinks)}::jsonb,
        tags = ${textArraySql(after.tags)}, provenance = ${JSON.stringify(after.provenance)}::jsonb,
        revision = ${after.revision}, updated_at = ${now.toISOString()}::timestamptz
        ${rawUpdate} ${searchUpdate}
      WHERE id = ${id}::uuid`);
    const changed = Object.keys(patch).filter((k) => k !== 'revision' && k !== 'transcriptFormat');
    await keepHistory(tx, actor, before, { reason: 'edit', event: 'observation.updated', payload: { fields: changed, revision: after.revision } });
    const codings = await listCodings({ ...ctx, db: tx }, id, { includeWithdrawn: true });
    return presentObservation(after, submitter, codings, parsed?.warnings);
  });
  observationsChanged();
  return result;
}

type ProvenanceFields = Parameters<typeof buildProvenance>[1];

/** The provenance fields an edit sets (absent ones keep their stored value). */
function definedOnly(patch: ObservationPatch): ProvenanceFields {
  const keys = ['interface', 'endpoint', 'sampling', 'harness', 'runtime', 'quantization'] as const;
  return Object.fromEntries(keys.filter((k) => patch[k] !== undefined).map((k) => [k, patch[k]])) as ProvenanceFields;
}

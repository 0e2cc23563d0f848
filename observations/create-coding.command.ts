import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { hasRole } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { AppError, invalid, notFound, type FieldErrors } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { findVersion } from '../ethograms/behaviour.queries.ts';
import type { ModifierSetDef } from '../ethograms/ethogram.schema.ts';
import { cachedDefaultVersion, publishedBehavioursByCode, type BehaviourRow } from '../ethograms/default-version.ts';
import type { CodingInput } from './observation.input.ts';
import { presentCoding, type CodingView } from './observation.presenter.ts';
import { requireUser } from './observation-edit.ts';
import { behaviourSummary } from './record-observation.command.ts';
import { partText, type Transcript } from './transcript.schema.ts';

/**
 * Codes a behaviour on an observation: on a span of one message part (checked against the transcript; the quote
 * is the coded text) or on the whole observation. The behaviour comes from a published ethogram version (the
 * default one when none is named) and its modifiers are checked against the version's modifier sets. Several
 * coders may code the same observation. A researcher's coding moves a submitted or triaged observation to
 * "coded". The coding, the status change and the event are one transaction.
 */
export async function createCoding(ctx: Ctx, observationId: string, input: CodingInput): Promise<CodingView> {
  const actor = requireUser(ctx, 'code observations');
  const { version, behaviour } = await resolveBehaviour(ctx, input);

  return inTransaction(ctx.db, async (tx) => {
    const observation = rowsOf<{ transcript: Transcript | string; status: string; deleted_at: unknown }>(
      await tx.execute(sql`SELECT transcript, status, deleted_at FROM observations WHERE id = ${observationId}::uuid FOR UPDATE`),
    )[0];
    if (!observation || observation.deleted_at) throw notFound('That observation');
    const transcript: Transcript = typeof observation.transcript === 'string' ? JSON.parse(observation.transcript) : observation.transcript;
    const span = input.span ? checkSpan(transcript, input.span) : null;
    const modifiers = checkModifiers(version.modifierSets, behaviour, input.modifiers);

    const id = randomUUID();
    const now = ctx.now();
    const status = hasRole(actor, 'researcher') ? 'accepted' : 'proposed';
    await tx.execute(sql`INSERT INTO codings (id, observation_id, ethogram_version_id, behaviour_id, message_id, part_index,
        char_start, char_end, quote, modifiers, coder_id, method, confidence, rationale, status, created_at)
      VALUES (${id}::uuid, ${observationId}::uuid, ${version.id}::uuid, ${behaviour.id}::uuid, ${span?.messageId ?? null},
        ${span?.partIndex ?? null}, ${span?.start ?? null}, ${span?.end ?? null}, ${span?.quote ?? null},
        ${JSON.stringify(modifiers)}::jsonb, ${actor.id}::uuid, 'manual', ${input.confidence ?? null}, ${input.rationale},
        ${status}::coding_status, ${now.toISOString()}::timestamptz)`);
    let observationStatus = observation.status;
    if (hasRole(actor, 'researcher') && (observation.status === 'submitted' || observation.status === 'triaged')) {
      observationStatus = 'coded';
      await tx.execute(sql`UPDATE observations SET status = 'coded', updated_at = ${now.toISOString()}::timestamptz WHERE id = ${observationId}::uuid`);
    }
    await recordEvent(tx, {
      type: 'coding.created',
      entityType: 'coding',
      entityId: id,
      actorId: actor.id,
      payload: { observationId, code: behaviour.code, versionId: version.id, span: span ? { ...span, quote: undefined } : null, observationStatus },
    });
    return presentCoding({
      id,
      observationId,
      messageId: span?.messageId ?? null,
      partIndex: span?.partIndex ?? null,
      charStart: span?.start ?? null,
      charEnd: span?.end ?? null,
      quote: span?.quote ?? null,
      modifiers,
      method: 'manual',
      confidence: input.confidence ?? null,
      rationale: input.rationale,
      status,
      revision: 1,
      createdAt: now,
      withdrawnAt: null,
      behaviour: behaviourSummary(behaviour),
      ethogramVersion: { id: version.id, slug: version.slug, number: version.number },
      coder: { id: actor.id, displayName: actor.displayName },
      withdrawnBy: null,
    });
  });
}

interface ResolvedVersion { id: string; slug: string; number: number; modifierSets: ModifierSetDef[] }

/** The published version (named, or the default) and the behaviour with the code, or a 422 saying which is wrong. */
async function resolveBehaviour(ctx: Ctx, input: CodingInput): Promise<{ version: ResolvedVersion; behaviour: BehaviourRow }> {
  let version: ResolvedVersion;
  if (input.ethogramVersionId) {
    const found = await findVersion(ctx.db, input.ethogramVersionId);
    if (!found) throw invalid('That ethogram version was not found.', { ethogramVersionId: 'No ethogram version has that id.' });
    if (found.version.status !== 'published') {
      const why = found.version.status === 'draft' ? 'is a draft: publish it before coding with it' : 'is deprecated: code with the current published version';
      throw invalid(`Version ${found.version.number} of ${found.name} ${why}.`, { ethogramVersionId: `This version ${why}.` });
    }
    version = { id: found.version.id, slug: found.slug, number: found.version.number, modifierSets: found.version.modifierSets };
  } else {
    const def = await cachedDefaultVersion(ctx.db);
    if (!def) throw invalid('No ethogram has been published yet, so there is nothing to code with.', { code: 'Publish an ethogram first.' });
    const found = await findVersion(ctx.db, def.id);
    if (!found) throw new AppError('internal', 'The default ethogram version disappeared; try again.');
    version = { id: def.id, slug: def.slug, number: def.number, modifierSets: found.version.modifierSets };
  }
  const code = input.code.trim().toUpperCase();
  const behaviour = (await publishedBehavioursByCode(ctx.db, version.id)).get(code);
  if (!behaviour) {
    throw invalid(`"${input.code}" is not a behaviour code in ${version.slug} v${version.number}.`, {
      code: `Unknown code "${input.code}"; the valid codes are listed at /ethograms/${version.slug}.`,
    });
  }
  return { version, behaviour };
}

/** Checks a span against the transcript: the message and part exist, the part has text, 0 <= start < end <= length. */
export function checkSpan(transcript: Transcript, span: NonNullable<CodingInput['span']>) {
  const message = transcript.messages.find((m) => m.id === span.messageId);
  if (!message) {
    const ids = transcript.messages.map((m) => m.id);
    throw invalid(`The span names message "${span.messageId}", which this transcript does not have.`, {
      'span.messageId': `No message "${span.messageId}"; the messages are ${listSome(ids)}.`,
    });
  }
  const part = message.parts[span.partIndex];
  if (!part) {
    throw invalid(`Message ${span.messageId} has ${message.parts.length} part(s); part index ${span.partIndex} does not exist.`, {
      'span.partIndex': `Use a part index from 0 to ${message.parts.length - 1}.`,
    });
  }
  const text = partText(part);
  if (text === null) {
    throw invalid(`Part ${span.partIndex} of message ${span.messageId} is ${part.type === 'image' ? 'an image' : `a "${part.type}" part`} with no text to code a span of; code the whole observation instead.`, {
      'span.partIndex': 'This part has no text.',
    });
  }
  const fields: FieldErrors = {};
  if (span.start < 0 || span.start >= text.length) fields['span.start'] = `Start must be from 0 to ${Math.max(0, text.length - 1)} (the part has ${text.length} characters).`;
  if (span.end <= span.start) fields['span.end'] = 'The span must end after it starts.';
  else if (span.end > text.length) fields['span.end'] = `End must be at most ${text.length}, the length of the part's text.`;
  if (Object.keys(fields).length > 0) {
    throw invalid(`The span ${span.start}-${span.end} does not fit part ${span.partIndex} of message ${span.messageId} (${text.length} characters).`, fields);
  }
  return { messageId: span.messageId, partIndex: span.partIndex, start: span.start, end: span.end, quote: text.slice(span.start, span.end) };
}

/**
 * Checks modifiers against the behaviour's modifier sets: each key must be one of them; single takes one of the
 * values, multi a list of values, numeric a number within min/max, text a string.
 */
export function checkModifiers(sets: ModifierSetDef[], behaviour: BehaviourRow, modifiers: Record<string, unknown>): Record<string, unknown> {
  const fields: FieldErrors = {};
  const allowed = new Set(behaviour.modifierSets);
  for (const [key, value] of Object.entries(modifiers)) {
    const path = `modifiers.${key}`;
    const set = sets.find((s) => s.key === key);
    if (!allowed.has(key) || !set) {
      fields[path] = allowed.size
        ? `${behaviour.code} takes no "${key}" modifier; it takes ${[...allowed].map((k) => `"${k}"`).join(', ')}.`
        : `${behaviour.code} takes no modifiers.`;
      continue;
    }
    const values = set.values ?? [];
    switch (set.type) {
      case 'single':
        if (typeof value !== 'string' || !values.includes(value)) fields[path] = `Choose one of ${values.map((v) => `"${v}"`).join(', ')}.`;
        break;
      case 'multi': {
        const list = Array.isArray(value) ? value : [value];
        const bad = list.filter((v) => typeof v !== 'string' || !values.includes(v));
        if (bad.length > 0 || list.length === 0) fields[path] = `Choose one or more of ${values.map((v) => `"${v}"`).join(', ')}.`;
        break;
      }
      case 'numeric':
        if (typeof value !== 'number' || !Number.isFinite(value)) fields[path] = 'Enter a number.';
        else if ((set.min !== undefined && value < set.min) || (set.max !== undefined && value > set.max)) {
          fields[path] = `Enter a number${set.min !== undefined ? ` from ${set.min}` : ''}${set.max !== undefined ? ` up to ${set.max}` : ''}.`;
        }
        break;
      case 'text':
        if (typeof value !== 'string') fields[path] = 'Enter text.';
        break;
    }
  }
  if (Object.keys(fields).length > 0) throw invalid(`Some modifiers do not fit ${behaviour.code}: ${Object.values(fields).join(' ')}`, fields);
  // A multi answer given as one string is stored as a list, so readers see one shape.
  return Object.fromEntries(
    Object.entries(modifiers).map(([k, v]) => [k, sets.find((s) => s.key === k)?.type === 'multi' && !Array.isArray(v) ? [v] : v]),
  );
}

function listSome(ids: string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')}, … (${ids.length} in all)`;
}

import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Role } from '../accounts/account.schema.ts';
import { roleRank } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { conflict, invalid } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import type { ModifierSetDef } from '../ethograms/ethogram.schema.ts';
import { codings, type Provenance } from '../observations/observation.schema.ts';
import { sha256Hex } from '../core/sha256.ts';
import { systemPromptSha256 } from '../observations/observation-text.ts';
import { observationsChanged } from '../observations/observation.queries.ts';
import { writeObservation } from '../observations/observation-writer.ts';
import { transcriptSchema, type Transcript, type TranscriptMessage } from '../observations/transcript.schema.ts';
import { lockSessionForOwner } from './adjudicate-session.command.ts';
import type { LiveEventView } from './live-events.ts';
import { LiveLog } from './live-log.ts';
import { requireLiveSession, type LiveSessionRow } from './live-session.queries.ts';
import { describeTarget, type LiveTarget } from './live-target.ts';
import { loadSessionEthogram, SessionEthograms } from './session-ethogram.ts';
import { allCodes, answersOf, codeId, codeRanges, foldSession, type AdjudicationRecord, type FoldedTurn, type SessionCode, type SessionRecord } from './session-record.ts';
import { loadSessionEvents } from './session-summary.queries.ts';

/** The tag every filed session carries, so they can be listed together. */
export const LIVE_SESSION_TAG = 'live-session';

/** The transcript's message ids for a turn: stable, and readable next to the log's turn numbers (from 0). */
export const promptMessageId = (turn: number) => `turn-${turn}-user`;
export const answerMessageId = (turn: number) => `turn-${turn}-assistant`;
export const SYSTEM_MESSAGE_ID = 'system';

export type FiledCodingStatus = 'accepted' | 'rejected' | 'proposed';

/**
 * Files an ended live session as ONE observation, in one transaction (a failure anywhere writes nothing):
 *
 * - the observation: the session's title; a sentence naming the session as what was surprising; provider and
 *   model from the target; provenance `{ capture: 'live-session', sessionId, sampling, systemPromptSha256, ... }`;
 *   the transcript (system prompt, then each prompt and answer as user and assistant messages); the whole log as
 *   the raw payload; observed at the session's start; submitted by the session's owner; members only; tagged
 *   `live-session`. Written by the observation writer with the headline search vector; the search indexer adds
 *   the transcript's text, as for every new observation.
 * - one coding per surviving code, attributed to its coder, method `live`, against the session's ethogram
 *   version, modifiers and rationale kept, on its turn's assistant message (see `planFiledCodings` for where
 *   each kind of code lands and `filedCodingStatus` for its status);
 * - a `session.filed` event in the log (the session becomes `filed`), the session's `observation_id`, and a
 *   `live.filed` domain event.
 *
 * Only the owner or an admin files; the session must have ended, and is filed once. Returns the observation's
 * id, how many codings were written and the stored log events (to broadcast after commit).
 */
export async function fileLiveSession(ctx: Ctx, sessionId: string): Promise<{ observationId: string; codings: number; events: LiveEventView[] }> {
  const result = await inTransaction(ctx.db, async (tx) => {
    const locked = await lockSessionForOwner(tx, ctx, sessionId, 'live.manage', 'file it as an observation');
    if (locked.status === 'open') throw conflict('End the session first: only an ended session can be filed as an observation.');
    if (locked.status === 'filed') {
      throw conflict(`This session has already been filed as observation ${locked.observationId}.`, { observationId: locked.observationId });
    }
    const session = await requireLiveSession(tx, sessionId);
    const events = await loadSessionEvents(tx, sessionId);
    const record = foldSession(events);
    if (record.turns.length === 0) throw conflict('This session has no prompts, so there is no conversation to file.');
    const ethogram = await loadSessionEthogram(tx, session.ethogramVersionId);
    const transcript = sessionTranscript(session.target.systemPrompt, record.turns);

    const observationId = randomUUID();
    const now = ctx.now();
    const planned = planFiledCodings(record, {
      sessionId,
      blind: session.blind,
      coderRoles: await userRoles(tx, record.coders),
      modifierSets: ethogram.modifierSets,
    });
    await writeFiledObservation(tx, { observationId, session, record, transcript, raw: JSON.stringify(events), filedBy: locked.actor.id, now });
    await insertCodings(tx, observationId, session.ethogramVersionId, planned);
    if (planned.some((c) => c.status === 'accepted')) {
      // As when a researcher codes an observation: accepted codes make it "coded".
      await tx.execute(sql`UPDATE observations SET status = 'coded' WHERE id = ${observationId}::uuid`);
    }

    const log = new LiveLog(tx, new SessionEthograms(tx), ctx.now);
    const appended = await log.append(sessionId, { kind: 'server', type: 'session.filed', actorId: locked.actor.id, payload: { observationId } });
    await tx.execute(sql`UPDATE live_sessions SET observation_id = ${observationId}::uuid WHERE id = ${sessionId}::uuid`);
    await recordEvent(tx, {
      type: 'live.filed',
      entityType: 'live_session',
      entityId: sessionId,
      actorId: locked.actor.id,
      payload: { observationId, codings: planned.length, rejected: planned.filter((c) => c.status === 'rejected').length, at: now.toISOString() },
    });
    return { observationId, codings: planned.length, events: appended.events };
  });
  observationsChanged();
  return result;
}

/**
 * The conversation in the product's transcript format: the target's system prompt (when there is one), then for
 * each turn the prompt (user) and the answer as it arrived (assistant, one text part). An answer that did not
 * complete gets a second, `other` part saying how it ended (stopped, failed with its error...), after the text
 * so the text stays part 0, where codings point.
 */
export function sessionTranscript(systemPrompt: string, turns: readonly FoldedTurn[]): Transcript {
  const messages: TranscriptMessage[] = [];
  if (systemPrompt !== '') messages.push({ id: SYSTEM_MESSAGE_ID, role: 'system', parts: [{ type: 'text', text: systemPrompt }] });
  for (const t of turns) {
    messages.push({ id: promptMessageId(t.turn), role: 'user', parts: [{ type: 'text', text: t.prompt }] });
    const ending = t.status === 'complete' ? [] : [{ type: 'other' as const, originalType: 'live.answer_ended', data: { status: t.status, finishReason: t.finishReason, error: t.error } }];
    messages.push({ id: answerMessageId(t.turn), role: 'assistant', parts: [{ type: 'text', text: t.answer }, ...ending] });
  }
  const parsed = transcriptSchema.safeParse({ format: 'menagerie', messages });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`This session cannot be filed as one observation: its transcript does not fit (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}).`);
  }
  return parsed.data;
}

/** One coding to write. `messageId` null: a whole-observation coding (a point on an answer with no text). */
export interface PlannedCoding {
  code: SessionCode;
  behaviourId: string;
  coderId: string;
  messageId: string | null;
  charStart: number | null;
  charEnd: number | null;
  quote: string | null;
  modifiers: Record<string, unknown>;
  rationale: string;
  status: FiledCodingStatus;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  createdAt: Date;
  /** Where in the session the coding came from (the code's id, kind and positions), kept on the coding. */
  provenance: Record<string, unknown>;
}

/**
 * Places every surviving code on the transcript, with `codeRanges` (session-record.ts), the same placement the
 * agreement figures use:
 *
 * - a point becomes a ONE-character span: the last character that had arrived when the key was pressed. Not a
 *   zero-length span: the coding viewer drops empty spans (transcript-view.ts `segmentText`) and `checkSpan`
 *   refuses them, so a zero-length coding could be neither seen nor edited. The exact press (turn and offset)
 *   is kept in the coding's provenance. A point on an answer with no text codes the whole observation.
 * - a state becomes a span of the text that arrived while it ran; one crossing turns becomes one coding per
 *   turn (each with the same provenance, `part` i of n).
 * - a span stays a span, its quote taken from the filed answer.
 */
export function planFiledCodings(
  record: SessionRecord,
  options: { sessionId: string; blind: boolean; coderRoles: ReadonlyMap<string, Role>; modifierSets: ReadonlyMap<string, ModifierSetDef> },
): PlannedCoding[] {
  const answers = answersOf(record);
  return allCodes(record).flatMap((code): PlannedCoding[] => {
    const id = codeId(code);
    const decision = record.adjudications[id];
    const role = options.coderRoles.get(code.coderId);
    const status = filedCodingStatus(decision?.decision, { blind: options.blind, coderIsResearcher: role !== undefined && roleRank[role] >= roleRank.researcher });
    const common = {
      code,
      behaviourId: code.behaviourId,
      coderId: code.coderId,
      modifiers: normaliseModifiers(code.modifiers, options.modifierSets),
      rationale: code.rationale,
      status,
      reviewedBy: decision?.by ?? null,
      reviewedAt: decision ? new Date(decision.at) : null,
      createdAt: new Date(code.at),
    };
    const ranges = codeRanges(code, answers);
    const where = codeProvenance(options.sessionId, record, code, decision);
    if (ranges.length === 0) return [{ ...common, messageId: null, charStart: null, charEnd: null, quote: null, provenance: where }];
    return ranges.map((r, i) => ({
      ...common,
      messageId: answerMessageId(r.turn),
      charStart: r.start,
      charEnd: r.end,
      quote: answers[r.turn]!.slice(r.start, r.end),
      provenance: ranges.length > 1 ? { ...where, part: i + 1, parts: ranges.length } : where,
    }));
  });
}

/**
 * A filed code's status:
 * - adjudicated: `accepted` or `rejected`, as the owner decided (the latest decision);
 * - not adjudicated, open session (not blind), coded by a researcher or admin: `accepted`. Everyone saw the
 *   code as it was made and the owner let it stand; researchers' codings are accepted elsewhere too.
 * - not adjudicated otherwise: `proposed`, for the review queue. In a blind session nobody but its coder saw
 *   the code before the end, so nobody vetted it; and a contributor's coding is a proposal everywhere in
 *   Menagerie (record-observation, create-coding), live or not.
 */
export function filedCodingStatus(decision: 'accept' | 'reject' | undefined, context: { blind: boolean; coderIsResearcher: boolean }): FiledCodingStatus {
  if (decision === 'accept') return 'accepted';
  if (decision === 'reject') return 'rejected';
  return !context.blind && context.coderIsResearcher ? 'accepted' : 'proposed';
}

/**
 * Live modifiers travel as strings (the hotkey panel sends text); codings store them as the coding form does: a
 * multi-valued set's value as a list, a numeric set's as a number.
 */
export function normaliseModifiers(modifiers: Record<string, string>, sets: ReadonlyMap<string, ModifierSetDef>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(modifiers).map(([key, value]) => {
      const type = sets.get(key)?.type;
      if (type === 'multi') return [key, [value]];
      if (type === 'numeric' && value.trim() !== '' && Number.isFinite(Number(value))) return [key, Number(value)];
      return [key, value];
    }),
  );
}

function codeProvenance(sessionId: string, record: SessionRecord, code: SessionCode, decision: AdjudicationRecord | undefined): Record<string, unknown> {
  const base = { capture: 'live-session', sessionId, seq: code.seq, adjudicated: decision ? decision.decision : null };
  switch (code.kind) {
    case 'point':
      return { ...base, kind: 'point', eventId: code.eventId, at: { turn: code.turn, offset: code.offset } };
    case 'span':
      return { ...base, kind: 'span', eventId: code.eventId, span: { turn: code.turn, start: code.start, end: code.end } };
    case 'state':
      return {
        ...base, kind: 'state', startEventId: code.startEventId, stopEventId: code.stopEventId, from: code.from, to: code.to, autoClosed: code.autoClosed,
        // A state still running when the record was taken cannot happen once the session has ended; kept honest anyway.
        ...(code.to === null ? { open: true, lastTurn: record.turns.at(-1)?.turn ?? null } : {}),
      };
  }
}

async function userRoles(tx: Db, ids: readonly string[]): Promise<Map<string, Role>> {
  if (ids.length === 0) return new Map();
  const rows = rowsOf<{ id: string; role: Role }>(
    await tx.execute(sql`SELECT id, role FROM users WHERE id IN (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})`),
  );
  return new Map(rows.map((r) => [r.id, r.role]));
}

interface FiledObservation {
  observationId: string;
  session: LiveSessionRow;
  record: SessionRecord;
  transcript: Transcript;
  raw: string;
  filedBy: string;
  now: Date;
}

/** The observation row (with its `observation.recorded` event), through the product's observation writer. */
async function writeFiledObservation(tx: Db, f: FiledObservation): Promise<void> {
  const { session, record, transcript } = f;
  const target = session.target;
  const surprise = `Filed from the live session "${session.title}" (${record.turns.length} turn${record.turns.length === 1 ? '' : 's'} with ${describeTarget(target)}, coded live by ${record.coders.length} observer${record.coders.length === 1 ? '' : 's'}).`;
  const provenance = sessionProvenance(session, record, transcript, f.filedBy);
  const modelVersion = record.turns.find((t) => t.modelVersion)?.modelVersion ?? null;
  const rawSha256 = sha256Hex(f.raw);
  const nowIso = f.now.toISOString();
  await writeObservation(tx, {
    observation: {
      id: f.observationId,
      title: session.title,
      surprise,
      visibility: 'members',
      provider: target.provider,
      model: target.model,
      modelVersion,
      provenanceJson: JSON.stringify(provenance),
      observedAt: new Date(session.createdAt).toISOString(),
      submittedBy: session.createdBy,
      rawPayload: f.raw,
      rawSha256,
      transcriptJson: JSON.stringify(transcript),
      evidenceLinksJson: '[]',
      tags: [LIVE_SESSION_TAG],
      createdAt: nowIso,
    },
    codings: [],
    event: { actorId: f.filedBy, payloadJson: JSON.stringify({ title: session.title, capture: 'live-session', sessionId: session.id, rawSha256 }) },
  });
}

/** What the observation's provenance says of the session: the capture path, the target's settings, each turn's ending. */
export function sessionProvenance(session: Pick<LiveSessionRow, 'id' | 'target' | 'blind' | 'ethogramVersionId'>, record: SessionRecord, transcript: Transcript, filedBy: string): Provenance & Record<string, unknown> {
  const target: LiveTarget = session.target;
  const sampling: Record<string, unknown> = { maxTokens: target.maxTokens };
  if (target.temperature !== null) sampling.temperature = target.temperature;
  if (target.topP !== null) sampling.topP = target.topP;
  if (target.seed !== null) sampling.seed = target.seed;
  const promptSha = systemPromptSha256(transcript);
  const modelVersions = [...new Set(record.turns.flatMap((t) => (t.modelVersion ? [t.modelVersion] : [])))];
  return {
    capture: 'live-session',
    sessionId: session.id,
    interface: 'live session',
    endpoint: target.baseUrl,
    sampling,
    ...(promptSha ? { systemPromptSha256: promptSha } : {}),
    harness: 'menagerie live session',
    ethogramVersionId: session.ethogramVersionId,
    blind: session.blind,
    observers: record.coders,
    modelVersions,
    turns: record.turns.map((t) => ({ turn: t.turn, status: t.status, finishReason: t.finishReason, modelVersion: t.modelVersion, usage: t.usage, error: t.error })),
    filedBy,
  };
}

const CODING_BATCH = 500;

async function insertCodings(tx: Db, observationId: string, ethogramVersionId: string, planned: readonly PlannedCoding[]): Promise<void> {
  for (let i = 0; i < planned.length; i += CODING_BATCH) {
    await tx.insert(codings).values(
      planned.slice(i, i + CODING_BATCH).map((c) => ({
        observationId,
        ethogramVersionId,
        behaviourId: c.behaviourId,
        messageId: c.messageId,
        partIndex: c.messageId === null ? null : 0,
        charStart: c.charStart,
        charEnd: c.charEnd,
        quote: c.quote,
        modifiers: c.modifiers,
        coderId: c.coderId,
        method: 'live' as const,
        rationale: c.rationale,
        status: c.status,
        provenance: c.provenance,
        reviewedBy: c.reviewedBy,
        reviewedAt: c.reviewedAt,
        createdAt: c.createdAt,
      })),
    );
  }
}

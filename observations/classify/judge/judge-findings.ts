import type { Transcript } from '../../transcript.schema.ts';
import { NONE_CODE, type JudgeAnswer, UNCLEAR_CODE } from './judge-output.ts';
import { mapQuote, type QuoteMatchKind, type QuoteSpan } from './quote-mapping.ts';

/**
 * What to do with a behaviour finding whose quote is not in the transcript (or that has no quote):
 * - `drop` (the default): the finding is rejected, listed in `rejected` and not proposed. A quote the judge
 *   invented is its evidence failing; proposing the code anyway would send an ungrounded claim to reviewers
 *   and blur the judge's measured precision, which is computed from grounded proposals.
 * - `whole-observation`: the finding is kept without a span (the code applies to the observation as a whole),
 *   for callers that accept coarser proposals, e.g. observation-level presence coding.
 * Either way the quote is dropped and counted in `droppedQuotes`.
 */
export type UnmatchedQuotePolicy = 'drop' | 'whole-observation';

/** A behaviour the judge says the transcript shows: a proposal for a coding once the caller records it. */
export interface JudgeFinding {
  /** A code of the pinned ethogram version (never `none` or `unclear`). */
  code: string;
  /** Where the quote is in the transcript, or null for a whole-observation finding. */
  span: QuoteSpan | null;
  /** How the quote was matched, or null when it was not (whole-observation). */
  quoteMatch: QuoteMatchKind | null;
  confidence: number;
  rationale: string;
  /** The quote and message id as the judge wrote them (the span has the transcript's own text). */
  judgeQuote: string;
  judgeMessageId: string;
}

/** The judge could not decide: kept for a reviewer to look at, never proposed as a coding. */
export interface UnclearFinding {
  span: QuoteSpan | null;
  confidence: number;
  rationale: string;
  judgeQuote: string;
}

export type RejectionReason = 'unknown_code' | 'quote_not_found' | 'no_quote';

/** A finding that is not proposed, and why, so nothing the judge said disappears without a trace. */
export interface RejectedFinding {
  code: string;
  quote: string;
  messageId: string;
  reason: RejectionReason;
}

export interface InterpretedAnswer {
  findings: JudgeFinding[];
  unclear: UnclearFinding[];
  /** The judge answered `none` (possibly next to behaviour findings, which are kept). */
  saidNone: boolean;
  rejected: RejectedFinding[];
  /** Quotes that could not be found in the transcript (behaviour and unclear findings alike). */
  droppedQuotes: number;
  /** Findings repeating an earlier one (same code, same span): merged, keeping the highest confidence. */
  duplicates: number;
}

/**
 * Turns a validated answer into proposals: codes checked against the version (case aside: `ref-full` is
 * `REF-FULL`; anything else outside the version is rejected as `unknown_code`), quotes mapped to spans,
 * duplicates merged.
 */
export function interpretAnswer(
  answer: JudgeAnswer,
  transcript: Transcript,
  behaviourCodes: readonly string[],
  unmatchedQuotes: UnmatchedQuotePolicy = 'drop',
): InterpretedAnswer {
  const canonical = new Map(behaviourCodes.map((code) => [code.toUpperCase(), code]));
  const out: InterpretedAnswer = { findings: [], unclear: [], saidNone: false, rejected: [], droppedQuotes: 0, duplicates: 0 };
  const seen = new Map<string, JudgeFinding>();

  for (const raw of answer.findings) {
    const lowered = raw.code.trim().toLowerCase();
    if (lowered === NONE_CODE) {
      out.saidNone = true;
      continue;
    }
    const quoted = raw.quote.trim() !== '';
    const match = quoted ? mapQuote(transcript, raw.quote, raw.messageId || undefined) : null;
    if (quoted && !match) out.droppedQuotes++;
    const span: QuoteSpan | null = match ? { messageId: match.messageId, partIndex: match.partIndex, charStart: match.charStart, charEnd: match.charEnd, quote: match.quote } : null;

    if (lowered === UNCLEAR_CODE) {
      out.unclear.push({ span, confidence: raw.confidence, rationale: raw.rationale, judgeQuote: raw.quote });
      continue;
    }
    const code = canonical.get(raw.code.trim().toUpperCase());
    const rejection = (reason: RejectionReason) => out.rejected.push({ code: raw.code, quote: raw.quote, messageId: raw.messageId, reason });
    if (!code) {
      rejection('unknown_code');
      continue;
    }
    if (!match && unmatchedQuotes === 'drop') {
      rejection(quoted ? 'quote_not_found' : 'no_quote');
      continue;
    }
    const finding: JudgeFinding = {
      code,
      span,
      quoteMatch: match?.match ?? null,
      confidence: raw.confidence,
      rationale: raw.rationale,
      judgeQuote: raw.quote,
      judgeMessageId: raw.messageId,
    };
    const key = span ? `${code}|${span.messageId}|${span.partIndex}|${span.charStart}|${span.charEnd}` : `${code}|whole`;
    const earlier = seen.get(key);
    if (earlier) {
      out.duplicates++;
      if (finding.confidence > earlier.confidence) Object.assign(earlier, finding);
      continue;
    }
    seen.set(key, finding);
    out.findings.push(finding);
  }
  return out;
}

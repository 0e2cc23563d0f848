import type { ClassifierKind } from '../classify/classify.schema.ts';
import type { PersonView } from '../observation.presenter.ts';

/** The text around a proposal's span, for showing the quote in context (plain text: render each piece escaped). */
export interface SpanContextView {
  messageId: string;
  messageNumber: number | null;
  role: string;
  partIndex: number;
  before: string;
  match: string;
  after: string;
  /** Whether text was cut before `before` or after `after`. */
  cutBefore: boolean;
  cutAfter: boolean;
}

/** One proposal in the review queue, with what a reviewer needs to decide on it. */
export interface ReviewItemView {
  id: string;
  observation: { id: string; title: string };
  behaviour: { id: string; code: string; name: string; category: string; colour: string; definition: string; inclusion: string[]; exclusion: string[] };
  ethogramVersion: { id: string; slug: string; number: number };
  classifier: { id: string; name: string; kind: ClassifierKind } | null;
  method: 'llm_judge' | 'classifier' | 'rule' | 'manual' | 'live';
  confidence: number | null;
  rationale: string;
  span: { messageId: string; partIndex: number; start: number; end: number; quote: string } | null;
  context: SpanContextView | null;
  modifiers: Record<string, unknown>;
  proposedBy: PersonView;
  jobId: string | null;
  provenance: Record<string, unknown> | null;
  createdAt: string;
}

export interface ReviewQueuePage {
  data: ReviewItemView[];
  /** Proposals matching the filters (all pages), up to REVIEW_COUNT_CAP; `totalCapped` when there are more. */
  total: number;
  totalCapped: boolean;
  /** The cursor for the next page (`after=`), or null on the last page. */
  nextCursor: string | null;
}

/** Characters of context shown on either side of a quoted span. */
export const CONTEXT_CHARS = 240;

/** Cuts the text around [start, end) into before / match / after, at most `chars` either side (at a space if near). */
export function spanContext(text: string, start: number, end: number, chars = CONTEXT_CHARS) {
  const s = Math.max(0, Math.min(start, text.length));
  const e = Math.max(s, Math.min(end, text.length));
  let from = Math.max(0, s - chars);
  let to = Math.min(text.length, e + chars);
  if (from > 0) {
    const space = text.indexOf(' ', from);
    if (space >= 0 && space < s && space - from < 40) from = space + 1;
  }
  if (to < text.length) {
    const space = text.lastIndexOf(' ', to);
    if (space > e && to - space < 40) to = space;
  }
  return { before: text.slice(from, s), match: text.slice(s, e), after: text.slice(e, to), cutBefore: from > 0, cutAfter: to < text.length };
}

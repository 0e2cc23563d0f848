import type { Transcript } from '../../transcript.schema.ts';

/**
 * What a rule detector reports: one place in a transcript where a rule fired, with the numbers behind it, so a
 * reviewer can see why and a coding can point at the exact characters. Pure data: later work turns findings
 * into proposed codings (method `rule`) through the registry's default behaviour codes.
 */

/** Where a finding fired: one message part, characters [charStart, charEnd) in UTF-16 code units, as codings count them. */
export interface FindingSpan {
  messageId: string;
  partIndex: number;
  charStart: number;
  charEnd: number;
  /** Exactly `partText(part).slice(charStart, charEnd)`. */
  quote: string;
}

export interface Finding {
  /** The detector's id in the registry (rules/index.ts). */
  detector: string;
  /** A short machine code for what fired, e.g. `repetition_loop`; the registry maps it to behaviour codes. */
  code: string;
  /** A sentence a reviewer can check, with the numbers behind it. */
  explanation: string;
  /** In [0, 1], from how strongly the rule fired (each detector documents its formula). */
  confidence: number;
  /** The span where the rule fired, or null when there is nothing to point at (an empty reply). */
  span: FindingSpan | null;
  /** The message the finding concerns (also when `span` is null). */
  messageId: string;
  /** The figures behind the explanation, by name, for sorting and display. */
  measures: Record<string, number | string>;
}

/**
 * Facts about the exchange that the transcript has no field for (an observation's provenance carries them),
 * e.g. the provider's stop reason (`length`, `max_tokens`).
 */
export interface DetectorContext {
  stopReason?: string | undefined;
}

export type Detector = (transcript: Transcript, context?: DetectorContext) => Finding[];

/** Clamps to [0, 1] and rounds to three places, so confidences compare and serialise stably. */
export function confidenceOf(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;
}

/** The probability that at least one of several independent pieces of evidence is right. */
export function combineEvidence(confidences: readonly number[]): number {
  return 1 - confidences.reduce((rest, c) => rest * (1 - c), 1);
}

/** Shortens a quote for an explanation (the span keeps the exact text). */
export function excerpt(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

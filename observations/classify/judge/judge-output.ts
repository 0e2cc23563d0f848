import { z } from 'zod';

/** The judge's answer when the transcript shows none of the behaviours. */
export const NONE_CODE = 'none';
/** The judge's answer when it cannot decide; kept for a reviewer, never proposed as a coding. */
export const UNCLEAR_CODE = 'unclear';

/** Name of the OpenAI json_schema and of the Anthropic tool the judge is forced to call. */
export const FINDINGS_SCHEMA_NAME = 'record_findings';

/** Upper bounds on an answer, so a runaway judge cannot fill the review queue. */
export const MAX_FINDINGS = 200;
const MAX_QUOTE = 5000;
const MAX_RATIONALE = 5000;

export type JsonSchema = { [key: string]: unknown };

/**
 * The JSON Schema the judge must answer with: `{findings: [{messageId, quote, rationale, code, confidence}]}`.
 * It stays inside what both strict modes accept (OpenAI strict json_schema, Anthropic strict tools): every
 * property required, `additionalProperties: false`, no numeric or length bounds (the confidence range and the
 * limits are stated in descriptions and checked by `parseJudgeAnswer`). The root is an object because neither
 * accepts a bare array. Evidence comes before the code (message, quote, rationale, then code) so the model
 * commits to a passage and a reason before it picks a label.
 */
export function findingsJsonSchema(codes: readonly string[]): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['findings'],
    properties: {
      findings: {
        type: 'array',
        description: 'One entry per distinct occurrence of a behaviour; a single "none" entry when the transcript shows none.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['messageId', 'quote', 'rationale', 'code', 'confidence'],
          properties: {
            messageId: { type: 'string', description: 'The id of the message the quote comes from; empty for "none".' },
            quote: {
              type: 'string',
              description: 'The passage showing the behaviour, copied character for character from one part of that message (at most 300 characters); empty for "none".',
            },
            rationale: { type: 'string', description: 'One or two sentences: which criterion is met, or why it is unclear.' },
            code: { type: 'string', enum: [...codes, NONE_CODE, UNCLEAR_CODE], description: 'The behaviour code, "none" or "unclear".' },
            confidence: { type: 'number', description: 'Probability between 0 and 1 that the code applies to the quote.' },
          },
        },
      },
    },
  };
}

/**
 * The structure of an answer, checked on our side even when the provider claims to enforce the schema (local
 * servers may ignore it). Codes are checked against the ethogram afterwards, one finding at a time, so a single
 * unknown code rejects that finding rather than the whole answer.
 */
export const judgeAnswerSchema = z.object({
  findings: z
    .array(
      z.object({
        messageId: z.string().max(200),
        quote: z.string().max(MAX_QUOTE),
        rationale: z.string().max(MAX_RATIONALE),
        code: z.string().trim().min(1, 'code is empty').max(64),
        confidence: z.number().min(0, 'confidence must be between 0 and 1').max(1, 'confidence must be between 0 and 1'),
      }),
    )
    .max(MAX_FINDINGS, `more than ${MAX_FINDINGS} findings`),
});
export type JudgeAnswer = z.infer<typeof judgeAnswerSchema>;
export type RawFinding = JudgeAnswer['findings'][number];

export type ParsedAnswer = { ok: true; answer: JudgeAnswer } | { ok: false; problems: string[] };

/** Validates an answer given as JSON text (OpenAI) or as an already-parsed object (an Anthropic tool input). */
export function parseJudgeAnswer(payload: unknown): ParsedAnswer {
  let value = payload;
  if (typeof payload === 'string') {
    const text = stripCodeFence(payload);
    if (!text) return { ok: false, problems: ['the answer is empty'] };
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { ok: false, problems: [`the answer is not valid JSON (${(error as Error).message})`] };
    }
  }
  const result = judgeAnswerSchema.safeParse(value);
  if (result.success) return { ok: true, answer: result.data };
  return {
    ok: false,
    problems: result.error.issues.slice(0, 10).map((issue) => `${issue.path.length ? issue.path.join('.') : 'answer'}: ${issue.message}`),
  };
}

/** Local models under `prompt_only` often wrap JSON in a Markdown fence; the content is what was asked for. */
function stripCodeFence(text: string): string {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(trimmed);
  return fenced ? fenced[1]!.trim() : trimmed;
}

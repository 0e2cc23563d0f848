/**
 * The LLM judge (issue 5): codes a transcript against a pinned ethogram version through the official OpenAI
 * and Anthropic clients or an OpenAI-compatible local server, with output constrained to the version's codes,
 * quotes mapped back to transcript offsets, bounded retries, and provenance (model, prompt version, tokens,
 * estimated cost). Pure of the database: callers store the proposals. See README.md beside this file.
 */
export { createJudge, judgeTranscript, DEFAULT_RETRY_POLICY, type Judge, type JudgeResult, type JudgeProvenance, type JudgeRunOptions, type RetryPolicy } from './run-judge.ts';
export { JudgeError, judgeErrorIds, judgeErrorToAppError, type JudgeErrorId, type JudgeErrorDetails } from './judge-errors.ts';
export {
  judgeSettingsSchema,
  parseJudgeSettings,
  resolveJudgeKey,
  allowedKeyOrigins,
  judgeProviders,
  structuredOutputModes,
  KEY_ORIGINS_ENV,
  OFFICIAL_BASE_URLS,
  type JudgeSettings,
  type JudgeSettingsInput,
  type JudgeProvider,
  type StructuredOutputMode,
} from './judge-settings.ts';
export { buildJudgePrompt, renderTranscript, PROMPT_TEMPLATE_ID, type JudgeBehaviour, type JudgePrompt, type PinnedEthogramVersion } from './judge-prompt.ts';
export { findingsJsonSchema, parseJudgeAnswer, NONE_CODE, UNCLEAR_CODE, FINDINGS_SCHEMA_NAME } from './judge-output.ts';
export { interpretAnswer, type JudgeFinding, type UnclearFinding, type RejectedFinding, type UnmatchedQuotePolicy } from './judge-findings.ts';
export { mapQuote, type QuoteSpan, type QuoteMatch, type QuoteMatchKind } from './quote-mapping.ts';
export { estimateCost, priceEntryFor, MODEL_PRICES, PRICES_AS_OF, type JudgeCost, type JudgeUsage, type ModelPrice } from './judge-pricing.ts';

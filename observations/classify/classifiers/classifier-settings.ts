import { z } from 'zod';
import { AppError, type FieldErrors } from '../../../core/errors.ts';
import { fieldErrors } from '../../../core/validation.ts';
import { judgeSettingsSchema, type JudgeSettings } from '../judge/judge-settings.ts';
import { DETECTORS } from '../rules/index.ts';
import type { ClassifierKind } from '../classify.schema.ts';

/**
 * The settings each kind of classifier stores (the `settings` jsonb of `classifiers`), validated here so the API,
 * the pages and the jobs that read them agree:
 * - `llm_judge`: the judge settings (observations/classify/judge/judge-settings.ts) with their defaults filled
 *   in, naming the environment variable that holds the key (never a key), plus `concurrency` for jobs;
 * - `offline`: training options (cross-validation folds, the fewest examples whose figures are trusted, which
 *   accepted codings count as training data);
 * - `rules`: which detectors run and the behaviour code (or none) each finding kind proposes, checked against the
 *   pinned ethogram version's codes.
 */

/** Judge settings as stored: the judge's input format with defaults made explicit, plus job concurrency. */
export interface StoredJudgeSettings {
  provider: JudgeSettings['provider'];
  model: string;
  baseUrl: string;
  apiKeyEnv?: string;
  temperature: number | null;
  maxTokens: number;
  timeoutMs: number;
  maxRetries: number;
  structuredOutput: JudgeSettings['structuredOutput'];
  price?: { inputPerMillion: number; outputPerMillion: number };
  /** How many observations a classification job judges at once (1..32). */
  concurrency: number;
}

/** Coding methods whose accepted codings can be training data (people's by default). */
export const trainingMethods = ['manual', 'live', 'llm_judge', 'classifier', 'rule'] as const;
export type TrainingMethod = (typeof trainingMethods)[number];

export interface OfflineSettings {
  /** Cross-validation folds (2..10). */
  folds: number;
  /** Fewest distinct examples with (and without) a behaviour before its figures are trusted (2..50). */
  minExamples: number;
  /** Which accepted codings count as training data, by method. */
  trainingMethods: TrainingMethod[];
}

export interface RulesSettings {
  /** Detector ids (rules/index.ts) that run. */
  detectors: string[];
  /** Behaviour code each finding kind proposes (null: a rule flag only, no coding). Every finding kind is listed. */
  mapping: Record<string, string | null>;
}

export const DEFAULT_JUDGE_CONCURRENCY = 8;
export const DEFAULT_OFFLINE_SETTINGS: OfflineSettings = { folds: 5, minExamples: 5, trainingMethods: ['manual', 'live'] };

const concurrencySchema = z
  .int('concurrency must be a whole number')
  .min(1, 'concurrency must be between 1 and 32')
  .max(32, 'concurrency must be between 1 and 32')
  .default(DEFAULT_JUDGE_CONCURRENCY);

const offlineSettingsSchema = z
  .object({
    folds: z.int('folds must be a whole number').min(2, 'folds must be between 2 and 10').max(10, 'folds must be between 2 and 10').default(DEFAULT_OFFLINE_SETTINGS.folds),
    minExamples: z
      .int('minExamples must be a whole number')
      .min(2, 'minExamples must be between 2 and 50')
      .max(50, 'minExamples must be between 2 and 50')
      .default(DEFAULT_OFFLINE_SETTINGS.minExamples),
    trainingMethods: z
      .array(z.enum(trainingMethods, { error: `a method is one of ${trainingMethods.join(', ')}` }))
      .min(1, 'choose at least one kind of coding to learn from')
      .default(DEFAULT_OFFLINE_SETTINGS.trainingMethods)
      .transform((methods) => trainingMethods.filter((m) => methods.includes(m))),
  })
  .strict();

const ALL_FINDING_KINDS = DETECTORS.flatMap((d) => Object.keys(d.findings));
const DETECTOR_IDS = DETECTORS.map((d) => d.id);

const rulesSettingsSchema = z
  .object({
    detectors: z
      .array(z.string().refine((id) => DETECTOR_IDS.includes(id), { error: (issue) => `"${String(issue.input)}" is not a rule detector (${DETECTOR_IDS.join(', ')})` }))
      .min(1, 'choose at least one detector')
      .optional(),
    mapping: z
      .record(
        z.string().refine((kind) => ALL_FINDING_KINDS.includes(kind), { error: (issue) => `"${String(issue.input)}" is not a finding kind of any detector` }),
        z.string().trim().max(32).nullable(),
      )
      .optional(),
  })
  .strict();

/** The registry's default behaviour code for a finding kind (the first listed), or null. */
export function defaultBehaviourCode(findingKind: string): string | null {
  for (const d of DETECTORS) {
    const kind = d.findings[findingKind];
    if (kind) return kind.behaviourCodes[0] ?? null;
  }
  return null;
}

/** Throws validation_failed with field messages under `settings.` (how the API and the forms name them). */
function settingsInvalid(fields: FieldErrors): never {
  const prefixed: FieldErrors = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k === '_' ? 'settings' : `settings.${k}`, v]));
  const list = Object.entries(prefixed)
    .slice(0, 5)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  throw new AppError('validation_failed', `The classifier settings are not valid: ${list}`, { fields: prefixed });
}

function parsePart<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  settingsInvalid(fieldErrors(result.error));
}

/**
 * Validates a kind's settings and returns what is stored. `versionCodes` are the behaviour codes of the pinned
 * ethogram version (rules mappings must name one of them). Throws validation_failed (422) with messages keyed
 * `settings.<field>`.
 */
export function parseClassifierSettings(kind: ClassifierKind, input: unknown, versionCodes: ReadonlySet<string>): Record<string, unknown> {
  const settings = input ?? {};
  if (typeof settings !== 'object' || Array.isArray(settings)) settingsInvalid({ _: 'settings must be an object' });
  if (kind === 'llm_judge') return { ...parseJudgeForStorage(settings as Record<string, unknown>) };
  if (kind === 'offline') return { ...parsePart(offlineSettingsSchema, settings) };
  return { ...parseRules(settings, versionCodes) };
}

function parseJudgeForStorage(input: Record<string, unknown>): StoredJudgeSettings {
  const { concurrency, ...judgeInput } = input;
  const problems: FieldErrors = {};
  const c = concurrencySchema.safeParse(concurrency);
  if (!c.success) problems.concurrency = c.error.issues[0]?.message ?? 'concurrency must be between 1 and 32';
  const j = judgeSettingsSchema.safeParse(judgeInput);
  if (!j.success) Object.assign(problems, fieldErrors(j.error));
  if (!c.success || !j.success) settingsInvalid(problems);
  return storedJudgeSettings(j.data, c.data);
}

/** Judge settings with defaults as explicit input (which `judgeSettingsSchema` parses back to the same settings). */
function storedJudgeSettings(s: JudgeSettings, concurrency: number): StoredJudgeSettings {
  return {
    provider: s.provider,
    model: s.model,
    baseUrl: s.baseUrl,
    ...(s.apiKeyEnv ? { apiKeyEnv: s.apiKeyEnv } : {}),
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    timeoutMs: s.timeoutMs,
    maxRetries: s.maxRetries,
    structuredOutput: s.structuredOutput,
    ...(s.price ? { price: s.price } : {}),
    concurrency,
  };
}

function parseRules(input: unknown, versionCodes: ReadonlySet<string>): RulesSettings {
  const parsed = parsePart(rulesSettingsSchema, input);
  const detectors = DETECTOR_IDS.filter((id) => (parsed.detectors ?? DETECTOR_IDS).includes(id));
  const mapping: Record<string, string | null> = {};
  const problems: FieldErrors = {};
  for (const kind of ALL_FINDING_KINDS) {
    if (parsed.mapping && kind in parsed.mapping) {
      const code = parsed.mapping[kind] || null;
      if (code !== null && !versionCodes.has(code)) problems[`mapping.${kind}`] = `"${code}" is not a behaviour code of the pinned ethogram version`;
      mapping[kind] = code;
    } else {
      // The registry's default is for the starter ethogram: another version may not have that code.
      const fallback = defaultBehaviourCode(kind);
      mapping[kind] = fallback && versionCodes.has(fallback) ? fallback : null;
    }
  }
  if (Object.keys(problems).length > 0) settingsInvalid(problems);
  return { detectors, mapping };
}

/** The judge settings and concurrency of a stored `llm_judge` classifier (for jobs): parsed again, defaults filled. */
export function judgeSettingsOf(settings: Record<string, unknown>): { judge: JudgeSettings; concurrency: number } {
  const { concurrency, ...judgeInput } = settings;
  return { judge: judgeSettingsSchema.parse(judgeInput), concurrency: concurrencySchema.parse(concurrency) };
}

/** The training options of a stored `offline` classifier, defaults filled. */
export function offlineSettingsOf(settings: Record<string, unknown>): OfflineSettings {
  return offlineSettingsSchema.parse(settings);
}

/** The detectors and mapping of a stored `rules` classifier. */
export function rulesSettingsOf(settings: Record<string, unknown>): RulesSettings {
  const detectors = Array.isArray(settings.detectors) ? settings.detectors.filter((d): d is string => typeof d === 'string') : DETECTOR_IDS;
  const raw = (settings.mapping ?? {}) as Record<string, unknown>;
  const mapping = Object.fromEntries(ALL_FINDING_KINDS.map((k) => [k, typeof raw[k] === 'string' ? (raw[k] as string) : null]));
  return { detectors, mapping };
}

import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { parseOrThrow } from '../core/validation.ts';
import { allowedKeyOrigins, DEFAULT_KEY_ENV, isPlainHttpUrl, judgeProviders, KEY_ENV_NAME, KEY_ORIGINS_ENV, looksLikeKey, OFFICIAL_BASE_URLS, type JudgeProvider } from '../observations/classify/judge/judge-settings.ts';

/**
 * The model a live session drives, as a researcher configures it. Like the judge settings it names where the
 * key lives on the server (an environment variable), never the key itself, and the same two rules keep a server
 * key from going somewhere it should not: `apiKeyEnv` may only name a key variable (`OPENAI_API_KEY`,
 * `ANTHROPIC_API_KEY`, `MENAGERIE_JUDGE_*`), and a key is only sent to its provider's official origin or one the
 * operator lists in `MENAGERIE_JUDGE_KEY_ORIGINS` (see `resolveLiveKey`).
 */

export type LiveProvider = JudgeProvider;

// The judge's rules (judge-settings.ts), with this form's own words, so a researcher meets one rule in both places.

const apiKeyEnvSchema = z
  .string({ error: 'apiKeyEnv must be the name of an environment variable, e.g. "OPENAI_API_KEY"' })
  .trim()
  .max(100, 'apiKeyEnv must be at most 100 characters')
  .superRefine((name, ctx) => {
    if (KEY_ENV_NAME.test(name)) return;
    ctx.addIssue({
      code: 'custom',
      message: looksLikeKey(name)
        ? 'apiKeyEnv names the environment variable that holds the key on the server (e.g. OPENAI_API_KEY), not the key itself; put the key in that variable on the server'
        : `"${name}" is not a key variable: use OPENAI_API_KEY, ANTHROPIC_API_KEY or a name starting with MENAGERIE_JUDGE_ (e.g. MENAGERIE_JUDGE_LOCAL_KEY), set on the server`,
    });
  });

const baseUrlSchema = z
  .string({ error: 'baseUrl must be an http(s) URL, e.g. "http://127.0.0.1:8080/v1"' })
  .trim()
  .max(500, 'baseUrl must be at most 500 characters')
  .refine(isPlainHttpUrl, 'baseUrl must be an http(s) URL without credentials, e.g. "http://127.0.0.1:8080/v1"');

const TEMPERATURE = 'temperature must be a number between 0 and 2, or null for the provider default';
const TOP_P = 'topP must be a number between 0 and 1, or null for the provider default';

const liveTargetShape = z
  .object({
    provider: z.enum(judgeProviders, { error: 'provider must be "openai", "anthropic" or "openai-compatible"' }),
    model: z
      .string({ error: 'name the model, e.g. "gpt-4o-mini" or "claude-sonnet-4-5"' })
      .trim()
      .min(1, 'name the model, e.g. "gpt-4o-mini" or "claude-sonnet-4-5"')
      .max(200, 'model must be at most 200 characters'),
    /** As the SDK takes it: OpenAI-style URLs end in `/v1`, Anthropic's do not. Defaults to the official API. */
    baseUrl: baseUrlSchema.optional(),
    /** Null (or absent) for a local server that needs no key; hosted providers default to their usual variable. */
    apiKeyEnv: apiKeyEnvSchema.nullable().optional(),
    apiKey: z
      .never({ error: 'keys are not stored in the target settings: set the key in an environment variable on the server and name it in apiKeyEnv' })
      .optional(),
    // Not trimmed: leading or trailing whitespace can be part of what a study varies.
    systemPrompt: z.string({ error: 'systemPrompt must be text' }).max(20_000, 'systemPrompt must be at most 20,000 characters').default(''),
    temperature: z.number({ error: TEMPERATURE }).min(0, TEMPERATURE).max(2, TEMPERATURE).nullable().optional(),
    topP: z.number({ error: TOP_P }).min(0, TOP_P).max(1, TOP_P).nullable().optional(),
    maxTokens: z
      .int('maxTokens must be a whole number')
      .min(1, 'maxTokens must be at least 1')
      .max(32_000, 'maxTokens must be at most 32,000')
      .default(1024),
    seed: z.int('seed must be a whole number, or null for none').nullable().optional(),
    timeoutMs: z
      .int('timeoutMs must be a whole number of milliseconds')
      .min(1000, 'timeoutMs must be at least 1000')
      .max(600_000, 'timeoutMs must be at most 600000 (10 minutes)')
      .default(120_000),
  })
  .strict();

/** A target with its defaults filled in: every provider has a base URL, a key variable (or none) and explicit nulls. */
export interface LiveTarget {
  provider: LiveProvider;
  model: string;
  /** Without a trailing slash. */
  baseUrl: string;
  apiKeyEnv: string | null;
  systemPrompt: string;
  /** Null leaves the provider's default (reasoning models accept no other). */
  temperature: number | null;
  topP: number | null;
  maxTokens: number;
  /** OpenAI and OpenAI-compatible servers only. */
  seed: number | null;
  /** How long the model may stay silent (before its first token, or between two) before the stream gives up. */
  timeoutMs: number;
}

/**
 * The zod schema of a live target: checks the combinations each provider accepts and fills in defaults.
 * Parsing a parsed target gives it back unchanged, so a stored target can be validated again.
 */
export const liveTargetSchema = liveTargetShape
  .superRefine((t, ctx) => {
    if (t.provider === 'openai-compatible' && !t.baseUrl) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'an OpenAI-compatible server needs its baseUrl, e.g. "http://127.0.0.1:8080/v1"' });
    }
    if (t.provider !== 'openai-compatible' && t.apiKeyEnv === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKeyEnv'],
        message: `the ${t.provider} API needs a key: name the variable that holds it, or leave apiKeyEnv out for ${DEFAULT_KEY_ENV[t.provider]}`,
      });
    }
    if (t.provider === 'anthropic' && typeof t.temperature === 'number' && t.temperature > 1) {
      ctx.addIssue({ code: 'custom', path: ['temperature'], message: 'Anthropic models take a temperature between 0 and 1' });
    }
    if (t.provider === 'anthropic' && typeof t.seed === 'number') {
      ctx.addIssue({ code: 'custom', path: ['seed'], message: 'Anthropic models take no seed: remove it (only OpenAI and OpenAI-compatible servers accept one)' });
    }
  })
  .transform((t): LiveTarget => {
    const hosted = t.provider === 'openai-compatible' ? null : t.provider;
    return {
      provider: t.provider,
      model: t.model,
      baseUrl: (t.baseUrl ?? (hosted ? OFFICIAL_BASE_URLS[hosted] : '')).replace(/\/+$/, ''),
      apiKeyEnv: t.apiKeyEnv ?? (hosted ? DEFAULT_KEY_ENV[hosted] : null),
      systemPrompt: t.systemPrompt,
      temperature: t.temperature ?? null,
      topP: t.topP ?? null,
      maxTokens: t.maxTokens,
      seed: t.seed ?? null,
      timeoutMs: t.timeoutMs,
    };
  });

/** A live target as written (before defaults). */
export type LiveTargetInput = z.input<typeof liveTargetSchema>;

/** Parses a live target or throws `validation_failed` (422) naming each field's problem. */
export function parseLiveTarget(input: unknown): LiveTarget {
  return parseOrThrow(liveTargetSchema, input, 'The target model');
}

/** A short name for pages and messages: "openai gpt-4o-mini", or with the host when it is not the official API. */
export function describeTarget(target: Pick<LiveTarget, 'provider' | 'model' | 'baseUrl'>): string {
  const name = `${target.provider} ${target.model}`;
  const official = target.provider === 'openai-compatible' ? null : OFFICIAL_BASE_URLS[target.provider];
  if (official && target.baseUrl === official) return name;
  try {
    return `${name} at ${new URL(target.baseUrl).host}`;
  } catch {
    return name;
  }
}

/**
 * The key to call the target with, read from the server's environment (passed down from the process's entry
 * point) at call time: null for a local server that needs none. Throws `validation_failed` naming the variable
 * when it is unset, and `forbidden` when the target points the key at an origin the operator has not allowed.
 */
export function resolveLiveKey(target: LiveTarget, env: Readonly<Record<string, string | undefined>>): string | null {
  if (target.apiKeyEnv === null) return null;
  const key = env[target.apiKeyEnv]?.trim();
  if (!key) {
    const message = `The target model needs an API key: set the environment variable ${target.apiKeyEnv} on the server (target setting apiKeyEnv), or name another variable there.`;
    throw new AppError('validation_failed', message, { fields: { apiKeyEnv: message } });
  }
  const origin = new URL(target.baseUrl).origin;
  if (!allowedKeyOrigins(target.provider, env).has(origin)) {
    throw new AppError(
      'forbidden',
      `The key in ${target.apiKeyEnv} is not sent to ${origin}: only to the provider's official API or an origin the operator lists in ${KEY_ORIGINS_ENV}.`,
      { setting: 'baseUrl' },
    );
  }
  return key;
}

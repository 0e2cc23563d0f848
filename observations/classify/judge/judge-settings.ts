import { z } from 'zod';
import { parseOrThrow } from '../../../core/validation.ts';
import { JudgeError } from './judge-errors.ts';

/**
 * Judge settings, as a researcher configures them. They name where the key lives on the server (an environment
 * variable), never the key itself, so settings can be stored, shown and exported without leaking it. Because
 * researchers (not only the operator) edit them, two rules keep a server key from being sent somewhere it
 * should not go:
 * - `apiKeyEnv` may only name a judge key variable (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY` or `MENAGERIE_JUDGE_*`),
 *   not any variable of the server process (`DATABASE_URL`, `MENAGERIE_SECRET`...);
 * - a key is only sent to its provider's official API origin, or to an origin the operator lists in
 *   `MENAGERIE_JUDGE_KEY_ORIGINS` (see `resolveJudgeKey`).
 */

export const judgeProviders = ['openai', 'anthropic', 'openai-compatible'] as const;
export type JudgeProvider = (typeof judgeProviders)[number];

/**
 * How an OpenAI-compatible server is asked to follow the findings schema. Servers differ and some silently
 * ignore what they do not support (answering unconstrained text with HTTP 200); every answer is validated
 * here anyway, so an ignored constraint shows up as `judge_invalid_output`, not as wrong codings.
 * - `json_schema`: `response_format: {type: 'json_schema', json_schema: {name, strict, schema}}` (llama.cpp
 *   server, vLLM, SGLang, Ollama, LM Studio);
 * - `vllm_structured_outputs`: `structured_outputs: {json: schema}` (vLLM 0.12 and later's native parameter);
 * - `guided_json`: `guided_json: schema` (older vLLM and servers that copied its parameter);
 * - `prompt_only`: no constraint is sent; the schema is only described in the prompt.
 */
export const structuredOutputModes = ['json_schema', 'vllm_structured_outputs', 'guided_json', 'prompt_only'] as const;
export type StructuredOutputMode = (typeof structuredOutputModes)[number];

/** The official API of each hosted provider, as the SDK's baseURL. */
export const OFFICIAL_BASE_URLS = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
} as const;

/** The key variable each hosted provider uses unless settings name another. */
export const DEFAULT_KEY_ENV = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' } as const;

/** The environment variable an operator lists extra origins in (comma-separated) that keys may be sent to. */
export const KEY_ORIGINS_ENV = 'MENAGERIE_JUDGE_KEY_ORIGINS';

/** The only variables settings edited by researchers may name for a key (never DATABASE_URL, MENAGERIE_SECRET...). */
export const KEY_ENV_NAME = /^(?:OPENAI_API_KEY|ANTHROPIC_API_KEY|MENAGERIE_JUDGE_[A-Z0-9_]+)$/;

/** Whether what was typed where a variable's name belongs looks like a key itself (to say so, not echo it as a name). */
export function looksLikeKey(name: string): boolean {
  return /^(sk-|sk_|key-)/i.test(name) || (name.length >= 30 && !/^[A-Z0-9_]+$/.test(name));
}

/** An http(s) URL without credentials: where a model API may be called. */
export function isPlainHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}

const apiKeyEnvSchema = z
  .string()
  .trim()
  .max(100)
  .superRefine((name, ctx) => {
    if (KEY_ENV_NAME.test(name)) return;
    ctx.addIssue({
      code: 'custom',
      message: looksLikeKey(name)
        ? 'apiKeyEnv names the environment variable that holds the key on the server (e.g. OPENAI_API_KEY), not the key itself; put the key in that variable on the server'
        : `"${name}" is not a judge key variable: use OPENAI_API_KEY, ANTHROPIC_API_KEY or a name starting with MENAGERIE_JUDGE_ (e.g. MENAGERIE_JUDGE_LOCAL_KEY), set on the server`,
    });
  });

const baseUrlSchema = z
  .string()
  .trim()
  .max(500)
  .refine(isPlainHttpUrl, 'baseUrl must be an http(s) URL without credentials, e.g. "http://127.0.0.1:8080/v1"');

const priceSchema = z
  .object({
    inputPerMillion: z.number().min(0, 'a price cannot be negative').max(10_000),
    outputPerMillion: z.number().min(0, 'a price cannot be negative').max(10_000),
  })
  .strict();

const judgeSettingsShape = z
  .object({
    provider: z.enum(judgeProviders, { error: 'provider must be "openai", "anthropic" or "openai-compatible"' }),
    model: z.string().trim().min(1, 'name the model, e.g. "gpt-4o-mini" or "claude-sonnet-4-5"').max(200),
    /** As the SDK takes it: OpenAI-style URLs end in `/v1`, Anthropic's do not. Defaults to the official API. */
    baseUrl: baseUrlSchema.optional(),
    /** The server environment variable holding the key; defaults to OPENAI_API_KEY / ANTHROPIC_API_KEY; none for local servers. */
    apiKeyEnv: apiKeyEnvSchema.optional(),
    apiKey: z
      .never({ error: 'keys are not stored in the judge settings: set the key in an environment variable on the server and name it in apiKeyEnv' })
      .optional(),
    /** Null leaves the provider's default (reasoning models accept no other). */
    temperature: z.number().min(0, 'temperature must be between 0 and 2').max(2, 'temperature must be between 0 and 2').nullable().default(0),
    maxTokens: z.int('maxTokens must be a whole number').min(64, 'maxTokens must be at least 64').max(128_000).default(4096),
    timeoutMs: z.int().min(1000, 'timeoutMs must be at least 1000').max(600_000).default(120_000),
    /** Retries after the first request, for 429/5xx/unreachable and for invalid answers. */
    maxRetries: z.int().min(0).max(5, 'maxRetries must be at most 5').default(2),
    structuredOutput: z.enum(structuredOutputModes).default('json_schema'),
    /** A price for models the table does not know (e.g. 0 for a local server); unknown otherwise. */
    price: priceSchema.optional(),
  })
  .strict();

/** Judge settings with their defaults filled in: a base URL and key variable (or none) for every provider. */
export interface JudgeSettings {
  provider: JudgeProvider;
  model: string;
  baseUrl: string;
  apiKeyEnv: string | null;
  temperature: number | null;
  maxTokens: number;
  timeoutMs: number;
  maxRetries: number;
  structuredOutput: StructuredOutputMode;
  price?: { inputPerMillion: number; outputPerMillion: number };
}

/** The zod schema of judge settings, checking the combinations each provider accepts and filling in defaults. */
export const judgeSettingsSchema = judgeSettingsShape
  .superRefine((s, ctx) => {
    if (s.provider === 'openai-compatible' && !s.baseUrl) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'an OpenAI-compatible server needs its baseUrl, e.g. "http://127.0.0.1:8080/v1"' });
    }
    if (s.provider === 'anthropic' && s.temperature !== null && s.temperature > 1) {
      ctx.addIssue({ code: 'custom', path: ['temperature'], message: 'Anthropic models take a temperature between 0 and 1' });
    }
    if (s.provider !== 'openai-compatible' && s.structuredOutput !== 'json_schema') {
      ctx.addIssue({
        code: 'custom',
        path: ['structuredOutput'],
        message: `structuredOutput applies to OpenAI-compatible servers only; ${s.provider === 'openai' ? 'OpenAI always gets a strict json_schema' : 'Anthropic always gets a forced tool'}`,
      });
    }
  })
  .transform((s): JudgeSettings => {
    const hosted = s.provider === 'openai-compatible' ? null : s.provider;
    return {
      provider: s.provider,
      model: s.model,
      baseUrl: (s.baseUrl ?? (hosted ? OFFICIAL_BASE_URLS[hosted] : '')).replace(/\/+$/, ''),
      apiKeyEnv: s.apiKeyEnv ?? (hosted ? DEFAULT_KEY_ENV[hosted] : null),
      temperature: s.temperature,
      maxTokens: s.maxTokens,
      timeoutMs: s.timeoutMs,
      maxRetries: s.maxRetries,
      structuredOutput: s.structuredOutput,
      ...(s.price ? { price: s.price } : {}),
    };
  });

/** Judge settings as written (before defaults). */
export type JudgeSettingsInput = z.input<typeof judgeSettingsSchema>;

/** Parses judge settings or throws `validation_failed` (422) naming each field's problem. */
export function parseJudgeSettings(input: unknown): JudgeSettings {
  return parseOrThrow(judgeSettingsSchema, input, 'The judge settings');
}

/** The origins (`scheme://host:port`) a key may be sent to: the provider's official API and the operator's list. */
export function allowedKeyOrigins(provider: JudgeProvider, env: Readonly<Record<string, string | undefined>>): Set<string> {
  const origins = new Set<string>();
  if (provider !== 'openai-compatible') origins.add(new URL(OFFICIAL_BASE_URLS[provider]).origin);
  for (const item of (env[KEY_ORIGINS_ENV] ?? '').split(',')) {
    const trimmed = item.trim();
    if (!trimmed) continue;
    try {
      origins.add(new URL(trimmed).origin);
    } catch {
      // An unparsable entry allows nothing; the operator sees the refusal naming the origin that was wanted.
    }
  }
  return origins;
}

/**
 * The key to call the judge with, read from the server's environment (passed down from the process's entry point,
 * the only place that reads the process environment) at call time: null for a local server
 * that needs none. Throws `judge_missing_key` naming the variable when it is unset, and
 * `judge_key_origin_not_allowed` when the settings point the key at an origin the operator has not allowed.
 */
export function resolveJudgeKey(settings: JudgeSettings, env: Readonly<Record<string, string | undefined>>): string | null {
  if (settings.apiKeyEnv === null) return null;
  const key = env[settings.apiKeyEnv]?.trim();
  if (!key) {
    throw new JudgeError(
      'judge_missing_key',
      `The judge needs an API key: set the environment variable ${settings.apiKeyEnv} on the server (judge setting apiKeyEnv), or name another variable there.`,
      false,
      { attempts: 0, setting: 'apiKeyEnv' },
    );
  }
  const origin = new URL(settings.baseUrl).origin;
  if (!allowedKeyOrigins(settings.provider, env).has(origin)) {
    throw new JudgeError(
      'judge_key_origin_not_allowed',
      `The key in ${settings.apiKeyEnv} is not sent to ${origin}: only to the provider's official API or an origin the operator lists in ${KEY_ORIGINS_ENV}.`,
      false,
      { attempts: 0, setting: 'baseUrl' },
    );
  }
  return key;
}

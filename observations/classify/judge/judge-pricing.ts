/**
 * Estimated cost of judge calls. The table holds the providers' published list prices (standard tier, no batch
 * or prompt-caching discounts) for the models a researcher is likely to configure. A model that is not in it
 * has an unknown cost (`usd: null`), never 0: a free-looking run that was not free would mislead whoever
 * budgets the next one. Local servers are unknown too unless the settings state a price (which may be 0).
 */

/** Tokens a call (or a run of attempts) used; null when the server did not report them. */
export interface JudgeUsage {
  /** All input tokens, prompt-cache reads and writes included. */
  inputTokens: number | null;
  outputTokens: number | null;
  /** Anthropic: input tokens read from / written to the prompt cache (part of `inputTokens`), priced at 0.1x / 1.25x. */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

export interface JudgeCost {
  /** Estimated USD, or null when the price or the token counts are unknown. */
  usd: number | null;
  /** Where the price came from: this table, the judge settings, or nowhere. */
  basis: 'price-table' | 'settings' | 'unknown';
  /** The table entry used, e.g. `gpt-4o-mini` for `gpt-4o-mini-2024-07-18`. */
  priceModel?: string;
  /** When the table's prices were copied from the providers' pages. */
  pricesAsOf?: string;
}

export const PRICES_AS_OF = '2025-11-30';

/** List prices, USD per million input/output tokens, from platform.openai.com/docs/pricing and docs.anthropic.com pricing. */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2 },
  'gpt-5-nano': { inputPerMillion: 0.05, outputPerMillion: 0.4 },
  'o3': { inputPerMillion: 2, outputPerMillion: 8 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'claude-3-haiku': { inputPerMillion: 0.25, outputPerMillion: 1.25 },
  'claude-3-5-haiku': { inputPerMillion: 0.8, outputPerMillion: 4 },
  'claude-haiku-4-5': { inputPerMillion: 1, outputPerMillion: 5 },
  'claude-3-5-sonnet': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-3-7-sonnet': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-sonnet-4': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-sonnet-4-5': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-opus-4': { inputPerMillion: 15, outputPerMillion: 75 },
  'claude-opus-4-1': { inputPerMillion: 15, outputPerMillion: 75 },
  'claude-opus-4-5': { inputPerMillion: 5, outputPerMillion: 25 },
};

/**
 * A dated snapshot or alias of a table entry: `gpt-4o-mini-2024-07-18`, `claude-sonnet-4-20250514`,
 * `claude-3-5-haiku-latest`. Only these suffixes are accepted, so a newer model that merely starts with a known
 * name (`claude-opus-4-6`) is unknown rather than priced as its predecessor.
 */
const SNAPSHOT_SUFFIX = /^-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

/** The table entry for a model name (exact, or a dated snapshot of it), or null. */
export function priceEntryFor(model: string): { name: string; price: ModelPrice } | null {
  const name = model.trim().toLowerCase();
  const exact = MODEL_PRICES[name];
  if (exact) return { name, price: exact };
  for (const [entry, price] of Object.entries(MODEL_PRICES)) {
    if (name.startsWith(entry) && SNAPSHOT_SUFFIX.test(name.slice(entry.length))) return { name: entry, price };
  }
  return null;
}

/** Anthropic's prompt-cache multipliers of the input price (the same for every Claude model). */
const CACHE_READ_FACTOR = 0.1;
const CACHE_WRITE_FACTOR = 1.25;

/** Cost of `usage` at `price`, rounded to a millionth of a dollar. */
function costAt(usage: JudgeUsage, price: ModelPrice): number | null {
  if (usage.inputTokens === null || usage.outputTokens === null) return null;
  const read = usage.cacheReadTokens ?? 0;
  const write = usage.cacheWriteTokens ?? 0;
  const plainInput = Math.max(0, usage.inputTokens - read - write);
  const inputUnits = plainInput + read * CACHE_READ_FACTOR + write * CACHE_WRITE_FACTOR;
  const usd = (inputUnits * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
  return Math.round(usd * 1_000_000) / 1_000_000;
}

/**
 * Estimates the cost of a judge run. A price in the settings wins (the only way a local server gets a cost);
 * otherwise official providers are looked up in the table by the model the server says answered, then the
 * model requested. Anthropic prompt-cache reads and writes are priced with Anthropic's multipliers; OpenAI's
 * automatically cached input is counted at the full input price (its discount differs per model), so OpenAI
 * estimates are an upper bound.
 */
export function estimateCost(
  usage: JudgeUsage,
  context: { provider: string; models: readonly (string | null | undefined)[]; settingsPrice?: ModelPrice | undefined },
): JudgeCost {
  if (context.settingsPrice) return { usd: costAt(usage, context.settingsPrice), basis: 'settings' };
  if (context.provider === 'openai-compatible') return { usd: null, basis: 'unknown' };
  for (const model of context.models) {
    if (!model) continue;
    const entry = priceEntryFor(model);
    if (entry) return { usd: costAt(usage, entry.price), basis: 'price-table', priceModel: entry.name, pricesAsOf: PRICES_AS_OF };
  }
  return { usd: null, basis: 'unknown' };
}

/**
 * Adds the token counts of two sets of answers. Unknown stays unknown: if any answer did not report its tokens,
 * the total is null rather than an undercount. (HTTP errors are not answers and add nothing.)
 */
export function addUsage(a: JudgeUsage, b: JudgeUsage): JudgeUsage {
  const add = (x: number | null, y: number | null) => (x === null || y === null ? null : x + y);
  const sum: JudgeUsage = { inputTokens: add(a.inputTokens, b.inputTokens), outputTokens: add(a.outputTokens, b.outputTokens) };
  const read = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  const write = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  if (read) sum.cacheReadTokens = read;
  if (write) sum.cacheWriteTokens = write;
  return sum;
}

/** The usage of no answers at all. */
export const ZERO_USAGE: JudgeUsage = Object.freeze({ inputTokens: 0, outputTokens: 0 });

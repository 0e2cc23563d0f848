/**
 * The fallback picture (partial `experiments/raw`): a pretty-printed excerpt of the result document, bounded in size,
 * with the reason there is no better picture (an unknown technique, a result its schema refuses, ...).
 */
import type { PictureView } from './picture.ts';

/** At most this many characters of JSON. */
export const RAW_MAX_CHARS = 20_000;
const MAX_ITEMS = 20;
const MAX_STRING = 300;
const MAX_DEPTH = 8;

/** A copy of a value small enough to print: long arrays, long strings and deep nesting shortened (and said so). */
export function excerpt(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length - MAX_STRING} more characters)` : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === null || typeof value !== 'object') return value ?? null;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[… ${value.length} items]` : '{…}';
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_ITEMS).map((v) => excerpt(v, depth + 1));
    return value.length > MAX_ITEMS ? [...head, `… ${value.length - MAX_ITEMS} more items`] : head;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries.slice(0, MAX_ITEMS * 5)) out[k] = excerpt(v, depth + 1);
  if (entries.length > MAX_ITEMS * 5) out['…'] = `${entries.length - MAX_ITEMS * 5} more fields`;
  return out;
}

export function rawPicture(document: unknown, reason: string): PictureView {
  let json: string;
  try {
    json = JSON.stringify(excerpt(document), null, 2) ?? 'null';
  } catch (err) {
    json = `(the document could not be printed: ${(err as Error).message})`;
  }
  const cut = json.length > RAW_MAX_CHARS;
  const technique = document && typeof document === 'object' && typeof (document as { technique?: unknown }).technique === 'string'
    ? (document as { technique: string }).technique
    : 'unknown';
  return {
    partial: 'experiments/raw',
    view: {
      reason,
      technique,
      json: cut ? json.slice(0, RAW_MAX_CHARS) : json,
      cut: cut ? `The excerpt stops after ${RAW_MAX_CHARS.toLocaleString('en')} characters.` : '',
      shortened: `Long lists show their first ${MAX_ITEMS} items and long texts their first ${MAX_STRING} characters.`,
    },
    caption: `The result document of ${technique}, as JSON`,
  };
}

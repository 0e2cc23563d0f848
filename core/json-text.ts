/**
 * JSON text of values that were serialized once already, for answers that carry them again. A new observation's
 * answer holds its transcript (10-20 KB), written out as JSON for the INSERT a moment before; serializing it a
 * second time for the answer was the largest part of sending it.
 */
const noted = new WeakMap<object, string>();

/** Records that `value` serializes to `json`, exactly as JSON.stringify(value) would. `value` must not change after. */
export function noteJson(value: object, json: string): void {
  noted.set(value, json);
}

const notedJsonOf = (value: unknown): string | undefined => (value !== null && typeof value === 'object' ? noted.get(value) : undefined);

/** JSON.stringify(body), with the noted JSON of any of its top-level values spliced in rather than written again. */
export function stringifyJson(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || typeof (body as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.stringify(body);
  }
  const record = body as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!keys.some((key) => notedJsonOf(record[key]) !== undefined)) return JSON.stringify(body);
  let out = '';
  for (const key of keys) {
    const value = record[key];
    // JSON.stringify(value) is undefined for what JSON leaves out of an object: undefined, functions, symbols.
    const json = notedJsonOf(value) ?? (JSON.stringify(value) as string | undefined);
    if (json === undefined) continue;
    out += `${out ? ',' : '{'}${JSON.stringify(key)}:${json}`;
  }
  return out ? `${out}}` : '{}';
}

/**
 * `{{#each (paramErrors errors)}}`: the problems of a JSON parameters field, one per parameter (`params` itself,
 * or `params.layers.0`...), as `{ key, message }` with the key shown without its `params.` prefix; empty when none.
 */
export function paramErrors(errors: unknown): Array<{ key: string; message: string }> {
  if (!errors || typeof errors !== 'object') return [];
  return Object.entries(errors as Record<string, unknown>)
    .filter(([key, message]) => (key === 'params' || key.startsWith('params.')) && typeof message === 'string')
    .map(([key, message]) => ({ key: key === 'params' ? 'parameters' : key.slice('params.'.length), message: message as string }));
}

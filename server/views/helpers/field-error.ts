/** `{{fieldError errors "title"}}`: the message for one field, or empty. */
export function fieldError(errors: unknown, name: unknown): string {
  if (!errors || typeof errors !== 'object') return '';
  const value = (errors as Record<string, unknown>)[String(name)];
  return typeof value === 'string' ? value : '';
}

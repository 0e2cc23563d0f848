import type { HelperOptions } from 'handlebars';

/**
 * `{{fieldError (errorsFor "behaviour") "code"}}`: the field errors of a page's failed form, but only inside
 * the form that failed (`failedForm`), so that two forms on one page with a same-named field don't both show it.
 */
export function errorsFor(form: unknown, options: HelperOptions): Record<string, string> {
  const root = (options?.data?.root ?? {}) as { failedForm?: unknown; errors?: Record<string, string> };
  return root.failedForm === form ? (root.errors ?? {}) : {};
}

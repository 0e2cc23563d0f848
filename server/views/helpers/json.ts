import Handlebars from 'handlebars';

/**
 * `{{json value}}`: JSON for embedding in a `<script type="application/json">` block. `<` is escaped as
 * \u003c so user text can never close the script element.
 */
export function json(value: unknown): Handlebars.SafeString {
  return new Handlebars.SafeString(JSON.stringify(value ?? null).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'));
}

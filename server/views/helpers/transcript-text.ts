import Handlebars from 'handlebars';

/**
 * `{{transcriptText text}}`: escapes text like `{{ }}` and also writes carriage returns as `&#13;`. The HTML
 * parser turns a literal CR into LF but keeps a character reference, so the text the browser holds matches the
 * stored text character for character: span offsets counted in the page are the offsets the server stores.
 */
export function transcriptText(value: unknown): Handlebars.SafeString {
  const text = value === null || value === undefined ? '' : String(value);
  return new Handlebars.SafeString(Handlebars.escapeExpression(text).replace(/\r/g, '&#13;'));
}

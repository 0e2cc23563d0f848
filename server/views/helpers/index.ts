import { eq } from './eq.ts';
import { fieldError } from './field-error.ts';
import { formatDate } from './format-date.ts';
import { includes } from './includes.ts';
import { json } from './json.ts';

/** Every template helper, one per file. */
export const helpers = { eq, fieldError, formatDate, includes, json };

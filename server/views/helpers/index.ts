import { eq } from './eq.ts';
import { errorsFor } from './errors-for.ts';
import { fieldError } from './field-error.ts';
import { formatDate } from './format-date.ts';
import { includes } from './includes.ts';
import { json } from './json.ts';
import { paramErrors } from './param-errors.ts';
import { transcriptText } from './transcript-text.ts';

/** Every template helper, one per file. */
export const helpers = { eq, errorsFor, fieldError, formatDate, includes, json, paramErrors, transcriptText };

import type { FieldErrors } from '../../../core/errors.ts';
import type { ModifierSetDef } from '../../../ethograms/ethogram.schema.ts';

/**
 * The "Code this observation" form: a behaviour, an optional span (message, part, start and end characters),
 * modifiers and a rationale. Values stay strings so a failed submission shows exactly what was typed.
 */
export interface CodingFormValues {
  code: string;
  messageId: string;
  /** The part of the message, counted from 1 as people count (the contract's partIndex counts from 0). */
  part: string;
  start: string;
  end: string;
  modifiers: Record<string, string | string[]>;
  rationale: string;
}

export const blankCodingValues = (): CodingFormValues => ({ code: '', messageId: '', part: '1', start: '', end: '', modifiers: {}, rationale: '' });

const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

export function codingValuesFromBody(body: Record<string, unknown>, modifierSets: ModifierSetDef[]): CodingFormValues {
  const modifiers: Record<string, string | string[]> = {};
  for (const set of modifierSets) {
    const raw = body[`modifier.${set.key}`];
    modifiers[set.key] = set.type === 'multi' ? list(raw) : text(raw);
  }
  return {
    code: text(body.code),
    messageId: text(body.messageId),
    part: text(body.part) || '1',
    start: text(body.start),
    end: text(body.end),
    modifiers,
    rationale: text(body.rationale).replace(/\r\n?/g, '\n'),
  };
}

const wholeNumber = (s: string) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN);

/**
 * Maps the form to the coding input contract. An empty message means the whole observation; a chosen message
 * needs start and end characters. Numeric modifiers become numbers; empty modifiers are left out.
 */
export function codingInputFromForm(v: CodingFormValues, modifierSets: ModifierSetDef[]): { input: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const input: Record<string, unknown> = { code: v.code, rationale: v.rationale };
  if (v.messageId) {
    const part = wholeNumber(v.part);
    const start = wholeNumber(v.start);
    const end = wholeNumber(v.end);
    if (Number.isNaN(part) || part < 1) errors.part = 'The part is a whole number: 1 for the first part of the message.';
    if (Number.isNaN(start)) errors.start = 'Enter the first character of the span (0 is the start of the part).';
    if (Number.isNaN(end)) errors.end = 'Enter the character where the span ends (after its last character).';
    input.span = { messageId: v.messageId, partIndex: part - 1, start, end };
  } else if (v.start.trim() || v.end.trim()) {
    errors.messageId = 'Choose the message the span is in, or clear start and end to code the whole observation.';
  }
  const modifiers: Record<string, string | number | string[]> = {};
  for (const set of modifierSets) {
    const value = v.modifiers[set.key];
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    if (set.type === 'numeric') {
      const n = Number(value);
      if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) errors[`modifier.${set.key}`] = `${set.name} must be a number.`;
      else if ((set.min !== undefined && n < set.min) || (set.max !== undefined && n > set.max)) {
        errors[`modifier.${set.key}`] = `${set.name} must be between ${set.min ?? '…'} and ${set.max ?? '…'}.`;
      } else modifiers[set.key] = n;
    } else {
      modifiers[set.key] = value;
    }
  }
  input.modifiers = modifiers;
  return { input, errors };
}

/** Contract field errors re-keyed to the form: "span.end" -> "end", "span.partIndex" -> "part", "modifiers.severity" -> "modifier.severity". */
export function codingFieldErrors(fields: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, message] of Object.entries(fields)) {
    let field = key;
    if (key === 'span.partIndex') field = 'part';
    else if (key.startsWith('span.')) field = key.slice(5);
    else if (key === 'span') field = 'start';
    else if (key.startsWith('modifiers.')) field = `modifier.${key.slice(10).split('.')[0]}`;
    if (!(field in out)) out[field] = message;
  }
  return out;
}

/** The modifier inputs as the template renders them, with the person's values and problems. */
export function modifierFields(modifierSets: ModifierSetDef[], v: CodingFormValues, errors: FieldErrors) {
  return modifierSets.map((set) => {
    const value = v.modifiers[set.key];
    return {
      key: set.key,
      name: set.name,
      type: set.type,
      isSingle: set.type === 'single',
      isMulti: set.type === 'multi',
      isNumeric: set.type === 'numeric',
      isText: set.type === 'text',
      minAttr: set.min !== undefined ? String(set.min) : '',
      maxAttr: set.max !== undefined ? String(set.max) : '',
      range: set.min !== undefined && set.max !== undefined ? `${set.min} to ${set.max}` : '',
      value: typeof value === 'string' ? value : '',
      options: (set.values ?? []).map((option) => ({
        value: option,
        selected: Array.isArray(value) ? value.includes(option) : value === option,
      })),
      error: errors[`modifier.${set.key}`] ?? '',
    };
  });
}

import type { FieldErrors } from '../../core/errors.ts';
import type { ClassifierKind } from '../../observations/classify/classify.schema.ts';
import { DEFAULT_JUDGE_CONCURRENCY, DEFAULT_OFFLINE_SETTINGS, defaultBehaviourCode, trainingMethods } from '../../observations/classify/classifiers/classifier-settings.ts';
import { judgeProviders, structuredOutputModes } from '../../observations/classify/judge/judge-settings.ts';
import { DETECTORS } from '../../observations/classify/rules/index.ts';

/**
 * Mapping between the classifier forms (flat fields that work without JavaScript) and the API's input, so pages
 * call the same commands with the same validation: settings fields are named as in the API without the
 * `settings.` prefix; a rules mapping is one select per finding kind (`mapping.<kind>`).
 */

type FormBody = Record<string, unknown>;
export type FormValues = Record<string, string | string[]>;

const text = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : '');
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' && value !== '' ? [value] : []);
/** A number field: blank is left out (the default applies); anything else not a number goes on to be refused by the schema. */
const num = (value: unknown): unknown => {
  const t = text(value).trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
};
const optional = (value: unknown): string | undefined => text(value).trim() || undefined;

export const kindLabels: Record<ClassifierKind, string> = { llm_judge: 'LLM judge', offline: 'Offline classifier', rules: 'Rule detectors' };
export const kindHeadings: Record<ClassifierKind, string> = { llm_judge: 'LLM judges', offline: 'Offline classifiers', rules: 'Rule detectors' };

/** The form's values for a new classifier of a kind (defaults shown), or for a stored one. */
export function classifierFormValues(kind: ClassifierKind, stored?: { name: string; ethogramVersionId: string; settings: Record<string, unknown> }): FormValues {
  const s = stored?.settings ?? {};
  const common = { name: stored?.name ?? '', ethogramVersionId: stored?.ethogramVersionId ?? '' };
  if (kind === 'llm_judge') {
    const price = s.price as { inputPerMillion?: number; outputPerMillion?: number } | undefined;
    return {
      ...common,
      provider: String(s.provider ?? 'openai'),
      model: String(s.model ?? ''),
      baseUrl: String(s.baseUrl ?? ''),
      apiKeyEnv: String(s.apiKeyEnv ?? ''),
      temperature: s.temperature === null ? '' : String(s.temperature ?? 0),
      maxTokens: String(s.maxTokens ?? 4096),
      timeoutMs: String(s.timeoutMs ?? 120000),
      maxRetries: String(s.maxRetries ?? 2),
      structuredOutput: String(s.structuredOutput ?? 'json_schema'),
      concurrency: String(s.concurrency ?? DEFAULT_JUDGE_CONCURRENCY),
      priceIn: price?.inputPerMillion !== undefined ? String(price.inputPerMillion) : '',
      priceOut: price?.outputPerMillion !== undefined ? String(price.outputPerMillion) : '',
    };
  }
  if (kind === 'offline') {
    return {
      ...common,
      folds: String(s.folds ?? DEFAULT_OFFLINE_SETTINGS.folds),
      minExamples: String(s.minExamples ?? DEFAULT_OFFLINE_SETTINGS.minExamples),
      trainingMethods: Array.isArray(s.trainingMethods) ? s.trainingMethods.map(String) : [...DEFAULT_OFFLINE_SETTINGS.trainingMethods],
    };
  }
  const mapping = (s.mapping ?? {}) as Record<string, string | null>;
  const values: FormValues = { ...common, detectors: Array.isArray(s.detectors) ? s.detectors.map(String) : DETECTORS.map((d) => d.id) };
  for (const d of DETECTORS) for (const k of Object.keys(d.findings)) values[`mapping.${k}`] = stored ? (mapping[k] ?? '') : (defaultBehaviourCode(k) ?? '');
  return values;
}

/** What a person typed, kept for showing the form again. */
export function classifierFormEcho(kind: ClassifierKind, body: FormBody): FormValues {
  const values: FormValues = {};
  for (const [name, blank] of Object.entries(classifierFormValues(kind))) values[name] = Array.isArray(blank) ? list(body[name]) : text(body[name]);
  return values;
}

/** The form as API input: `{name, ethogramVersionId, settings}` (the kind comes from the page). */
export function classifierInputFromForm(kind: ClassifierKind, body: FormBody): { name: string; ethogramVersionId: string; settings: Record<string, unknown> } {
  const common = { name: text(body.name).trim(), ethogramVersionId: text(body.ethogramVersionId) };
  if (kind === 'llm_judge') {
    const priceIn = num(body.priceIn);
    const priceOut = num(body.priceOut);
    const settings: Record<string, unknown> = {
      provider: text(body.provider),
      model: text(body.model).trim(),
      ...(optional(body.baseUrl) ? { baseUrl: optional(body.baseUrl) } : {}),
      ...(optional(body.apiKeyEnv) ? { apiKeyEnv: optional(body.apiKeyEnv) } : {}),
      // Blank temperature: the provider's default (reasoning models accept no other).
      temperature: num(body.temperature) ?? null,
      maxTokens: num(body.maxTokens),
      timeoutMs: num(body.timeoutMs),
      maxRetries: num(body.maxRetries),
      structuredOutput: optional(body.structuredOutput),
      concurrency: num(body.concurrency),
      ...(priceIn !== undefined || priceOut !== undefined ? { price: { inputPerMillion: priceIn ?? 0, outputPerMillion: priceOut ?? 0 } } : {}),
    };
    return { ...common, settings: dropUndefined(settings) };
  }
  if (kind === 'offline') {
    return { ...common, settings: dropUndefined({ folds: num(body.folds), minExamples: num(body.minExamples), trainingMethods: list(body.trainingMethods) }) };
  }
  const mapping: Record<string, string | null> = {};
  for (const d of DETECTORS) for (const k of Object.keys(d.findings)) mapping[k] = text(body[`mapping.${k}`]) || null;
  return { ...common, settings: { detectors: list(body.detectors), mapping } };
}

const dropUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The API's field paths folded onto the form's fields (`settings.price.inputPerMillion` -> `priceIn`). */
export function classifierFormErrors(fields: FieldErrors): FieldErrors {
  const folded: FieldErrors = {};
  for (const [path, message] of Object.entries(fields)) {
    let field = path.replace(/^settings\.?/, '') || '_';
    if (field.startsWith('price')) field = field.endsWith('outputPerMillion') ? 'priceOut' : 'priceIn';
    else if (/^(detectors|trainingMethods)\.\d+/.test(field)) field = field.split('.')[0]!;
    folded[field] = folded[field] ? `${folded[field]}; ${message}` : message;
  }
  return folded;
}

/** Choices the forms offer. */
export const formChoices = {
  providers: judgeProviders.map((p) => ({ value: p, label: p === 'openai-compatible' ? 'OpenAI-compatible server' : p === 'openai' ? 'OpenAI' : 'Anthropic' })),
  structuredOutputModes: [...structuredOutputModes],
  trainingMethods: trainingMethods.map((m) => ({
    value: m,
    label: { manual: 'Manual codings by people', live: 'Codings made in live sessions', llm_judge: 'Accepted LLM judge proposals', classifier: 'Accepted offline classifier proposals', rule: 'Accepted rule proposals' }[m],
  })),
};

import type { FieldErrors } from '../../../core/errors.ts';
import { interfaces } from '../../../observations/observation.input.ts';
import type { ObservationView } from '../../../observations/observation.presenter.ts';
import { parseTranscript, type TranscriptFormatChoice } from '../../../observations/transcript/parse-transcript.ts';
import { transcriptFormats } from '../../../observations/transcript.schema.ts';
import { transcriptView, type MessageView } from './transcript-view.ts';

/**
 * The observation web form: what the person typed (kept verbatim so a failed submission shows it all again),
 * and the mapping from those strings to the input contract the API uses (`observationInputSchema`).
 */
export interface ObservationFormValues {
  title: string;
  surprise: string;
  provider: string;
  model: string;
  modelVersion: string;
  interface: string;
  runtime: string;
  quantization: string;
  harness: string;
  endpoint: string;
  sampling: Record<SamplingKey, string>;
  transcript: string;
  transcriptFormat: string;
  observedAt: string;
  evidenceLinks: string;
  tags: string;
  visibility: string;
  codes: string[];
  revision: string;
}

/** The sampling parameters the form asks for one by one (others can be sent through the API). */
export const samplingParameters = [
  { key: 'temperature', label: 'Temperature', kind: 'decimal', example: '0.7' },
  { key: 'top_p', label: 'top_p', kind: 'decimal', example: '0.9' },
  { key: 'top_k', label: 'top_k', kind: 'integer', example: '40' },
  { key: 'max_tokens', label: 'max_tokens', kind: 'integer', example: '1024' },
  { key: 'seed', label: 'Seed', kind: 'integer', example: '42' },
] as const;
export type SamplingKey = (typeof samplingParameters)[number]['key'];

export const commonProviders = ['openai', 'anthropic', 'google', 'meta', 'mistral', 'deepseek', 'xai', 'local', 'other'];

const interfaceLabels: Record<(typeof interfaces)[number], string> = {
  api: 'API',
  'chat-app': 'Chat app (web or mobile)',
  'agent-harness': 'Agent harness',
  'local-runtime': 'Local runtime',
  other: 'Other',
};

export const formatLabels: Record<TranscriptFormatChoice, string> = {
  auto: 'Detect automatically',
  plain: 'Plain text (User: / Assistant:)',
  'openai-chat': 'OpenAI Chat Completions JSON',
  'anthropic-messages': 'Anthropic Messages JSON',
  menagerie: 'Menagerie transcript JSON',
};

const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
/** Browsers send textarea line breaks as CRLF; the person typed LF. */
const multiline = (v: unknown) => text(v).replace(/\r\n?/g, '\n');
const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** A blank form: visibility members-only, format auto-detected, observed today. */
export function blankFormValues(today: Date): ObservationFormValues {
  return {
    title: '', surprise: '', provider: '', model: '', modelVersion: '', interface: '', runtime: '', quantization: '',
    harness: '', endpoint: '', sampling: emptySampling(), transcript: '', transcriptFormat: 'auto',
    observedAt: today.toISOString().slice(0, 10), evidenceLinks: '', tags: '', visibility: 'members', codes: [], revision: '',
  };
}

function emptySampling(): Record<SamplingKey, string> {
  return Object.fromEntries(samplingParameters.map((p) => [p.key, ''])) as Record<SamplingKey, string>;
}

/** Everything a urlencoded form post carried, as strings (nothing dropped, nothing parsed yet). */
export function formValuesFromBody(body: Record<string, unknown>): ObservationFormValues {
  const sampling = emptySampling();
  for (const p of samplingParameters) sampling[p.key] = text(body[`sampling.${p.key}`]);
  return {
    title: text(body.title),
    surprise: multiline(body.surprise),
    provider: text(body.provider),
    model: text(body.model),
    modelVersion: text(body.modelVersion),
    interface: text(body.interface),
    runtime: text(body.runtime),
    quantization: text(body.quantization),
    harness: text(body.harness),
    endpoint: text(body.endpoint),
    sampling,
    transcript: multiline(body.transcript),
    transcriptFormat: text(body.transcriptFormat) || 'auto',
    observedAt: text(body.observedAt),
    evidenceLinks: multiline(body.evidenceLinks),
    tags: text(body.tags),
    visibility: text(body.visibility) || 'members',
    codes: list(body.codes),
    revision: text(body.revision),
  };
}

/** The edit form, prefilled from the stored observation; the transcript is offered as Menagerie JSON so message ids (and codings) survive. */
export function formValuesFromObservation(o: ObservationView): ObservationFormValues {
  const sampling = emptySampling();
  for (const p of samplingParameters) {
    const v = o.provenance.sampling?.[p.key];
    if (v !== undefined && v !== null) sampling[p.key] = String(v);
  }
  return {
    title: o.title,
    surprise: o.surprise,
    provider: o.provider,
    model: o.model,
    modelVersion: o.modelVersion ?? '',
    interface: o.provenance.interface ?? '',
    runtime: o.provenance.runtime ?? '',
    quantization: o.provenance.quantization ?? '',
    harness: o.provenance.harness ?? '',
    endpoint: o.provenance.endpoint ?? '',
    sampling,
    transcript: storedTranscriptText(o),
    transcriptFormat: 'auto',
    observedAt: o.observedAt.slice(0, 10),
    evidenceLinks: o.evidenceLinks.join('\n'),
    tags: o.tags.join(', '),
    visibility: o.visibility,
    codes: [],
    revision: String(o.revision),
  };
}

/** The stored transcript as the edit form shows it. */
export function storedTranscriptText(o: Pick<ObservationView, 'transcript'>): string {
  return JSON.stringify({ format: 'menagerie', messages: o.transcript.messages }, null, 2);
}

const splitLines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
const splitTags = (s: string) => s.split(',').map((t) => t.trim()).filter(Boolean);

/**
 * Maps form strings to the input contract. Sampling numbers are checked here (the contract takes numbers);
 * their problems come back keyed `sampling.<key>`, to be shown beside each input.
 */
export function inputFromForm(v: ObservationFormValues): { input: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const sampling: Record<string, number> = {};
  for (const p of samplingParameters) {
    const raw = v.sampling[p.key].trim();
    if (raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || (p.kind === 'integer' && !Number.isInteger(n))) {
      errors[`sampling.${p.key}`] = `${p.label} must be ${p.kind === 'integer' ? 'a whole number' : 'a number'}, e.g. ${p.example}.`;
    } else {
      sampling[p.key] = n;
    }
  }
  const input: Record<string, unknown> = {
    title: v.title,
    surprise: v.surprise,
    provider: v.provider,
    model: v.model,
    modelVersion: v.modelVersion,
    runtime: v.runtime,
    quantization: v.quantization,
    harness: v.harness,
    endpoint: v.endpoint,
    transcript: v.transcript,
    transcriptFormat: v.transcriptFormat,
    observedAt: v.observedAt,
    evidenceLinks: splitLines(v.evidenceLinks),
    tags: splitTags(v.tags),
    visibility: v.visibility,
    codes: v.codes,
  };
  if (v.interface) input.interface = v.interface;
  if (Object.keys(sampling).length > 0) input.sampling = sampling;
  return { input, errors };
}

/**
 * Field errors from the input contract, re-keyed to the form's fields: "evidenceLinks.1" becomes
 * "evidenceLinks" naming the link, "tags.0" becomes "tags" naming the tag.
 */
export function formFieldErrors(fields: FieldErrors, input: Record<string, unknown>): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, message] of Object.entries(fields)) {
    const [head, index] = key.split('.');
    let field = key;
    let text = message;
    if ((head === 'evidenceLinks' || head === 'tags' || head === 'codes') && index !== undefined && /^\d+$/.test(index)) {
      field = head;
      const item = (input[head] as unknown[] | undefined)?.[Number(index)];
      text = `${head === 'evidenceLinks' ? 'Link' : head === 'tags' ? 'Tag' : 'Code'} "${String(item)}": ${message}`;
    } else if (head === 'transcript' || (head === 'sampling' && !samplingParameters.some((p) => `sampling.${p.key}` === key))) {
      field = head;
    }
    if (!(field in out)) out[field] = text;
  }
  return out;
}

export interface TranscriptPreview {
  ok: boolean;
  formatLabel?: string;
  messageCount?: number;
  warnings?: string[];
  messages?: MessageView[];
  error?: string;
}

/** What the "Preview" button shows: the transcript as it will be stored, or why it cannot be read. */
export function previewTranscript(transcript: string, format: string): TranscriptPreview {
  const choice = (['auto', ...transcriptFormats] as string[]).includes(format) ? (format as TranscriptFormatChoice) : 'auto';
  const result = parseTranscript(transcript, choice);
  if (!result.ok) return { ok: false, error: result.error.message };
  return {
    ok: true,
    formatLabel: formatLabels[result.transcript.format],
    messageCount: result.transcript.messages.length,
    warnings: result.warnings,
    messages: transcriptView(result.transcript),
  };
}

/** Options and labels the form template lists. */
export function formChoices(values: ObservationFormValues, errors: FieldErrors) {
  return {
    providers: commonProviders,
    interfaces: interfaces.map((value) => ({ value, label: interfaceLabels[value] })),
    transcriptFormats: (['auto', ...transcriptFormats] as TranscriptFormatChoice[]).map((value) => ({ value, label: formatLabels[value] })),
    samplingFields: samplingParameters.map((p) => ({
      key: p.key,
      label: p.label,
      value: values.sampling[p.key],
      inputmode: p.kind === 'integer' ? 'numeric' : 'decimal',
      error: errors[`sampling.${p.key}`] ?? '',
    })),
  };
}

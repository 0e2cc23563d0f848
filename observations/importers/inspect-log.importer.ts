import type { MessageRole, TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage } from '../transcript/parse-transcript.ts';
import { AppError } from '../../core/errors.ts';
import { dateOf, isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import type { SourceReader } from './read-source.ts';
import { openZip, type ZipArchive } from './zip-reader.ts';

/**
 * UK AISI Inspect eval logs: one record per sample (and epoch). A `.json` log is one `EvalLog` (parsed whole,
 * up to the whole-document limit); a `.eval` log is a ZIP read entry by entry: `header.json` (or, for a run
 * that crashed, `_journal/start.json`) gives the eval, and each `samples/*.json` is a sample. `attachment://`
 * references are resolved from the sample's `attachments` in the transcript; the raw record is the sample as
 * written. Content parts: text (and refusals), reasoning (signature or redacted content kept opaque), images,
 * tool calls and results; audio, video, data, tool_use and anything else are kept as `other`.
 */
export async function* importInspectLog(reader: SourceReader): AsyncGenerator<DraftResult> {
  const head = await reader.head(4);
  if (head.subarray(0, 2).toString('latin1') === 'PK' || /\.eval$/i.test(reader.fileName)) {
    yield* importEvalZip(reader);
    return;
  }
  const text = (await reader.buffer('an Inspect .json log')).toString('utf8');
  const json = parseJson(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (!json.ok) throw new AppError('validation_failed', `${reader.fileName} is not a readable Inspect log: ${json.reason.replace('The record', 'the file')}`);
  const log = json.value;
  if (!isRecord(log) || !isRecord(log.eval)) throw new AppError('validation_failed', `${reader.fileName} is not an Inspect log: it has no "eval"`);
  const samples = Array.isArray(log.samples) ? log.samples : [];
  const header = { ...log, samples: undefined };
  for (const [index, sample] of samples.entries()) yield inspectSampleDraft(JSON.stringify(sample), index, header);
}

async function* importEvalZip(reader: SourceReader): AsyncGenerator<DraftResult> {
  let archive: ZipArchive;
  if (reader.path !== undefined) {
    // Consume nothing from the stream: the archive is read by random access from the file.
    archive = await openZip({ path: reader.path }, reader.fileName);
  } else {
    archive = await openZip({ buffer: await reader.buffer('an Inspect .eval log sent as a stream') }, reader.fileName);
  }
  try {
    const byName = new Map(archive.entries.map((entry) => [entry.name, entry]));
    const headerEntry = byName.get('header.json') ?? byName.get('_journal/start.json');
    if (!headerEntry) {
      throw new AppError('validation_failed', `${reader.fileName} is a ZIP archive but not an Inspect log: it has neither header.json nor _journal/start.json`);
    }
    const headerJson = parseJson((await headerEntry.read()).toString('utf8'));
    if (!headerJson.ok || !isRecord(headerJson.value)) {
      throw new AppError('validation_failed', `${reader.fileName}: ${headerEntry.name} is not readable JSON`);
    }
    const header = headerJson.value;
    if (headerEntry.name !== 'header.json') header.status = header.status ?? 'started';
    const samples = archive.entries.filter((entry) => /^samples\/.+\.json$/.test(entry.name));
    for (const [index, entry] of samples.entries()) {
      let raw: string;
      try {
        raw = (await entry.read()).toString('utf8');
      } catch (error) {
        yield { index, reason: error instanceof Error ? error.message : String(error), recordId: entry.name };
        continue;
      }
      yield inspectSampleDraft(raw, index, header);
    }
  } finally {
    archive.close();
  }
}

type Conversion = { attachments: JsonObject; warnings: string[] };

/** One Inspect sample (its raw JSON text) as a record draft; `header` is the log without its samples. */
export function inspectSampleDraft(raw: string, index: number, header: JsonObject): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: json.reason };
  const sample = json.value;
  if (!isRecord(sample)) return { index, reason: 'An Inspect sample is a JSON object with "messages"' };
  const sampleId = sample.id === undefined || sample.id === null ? undefined : String(sample.id);
  const epoch = typeof sample.epoch === 'number' ? sample.epoch : undefined;
  const recordId = sampleId === undefined ? undefined : epoch === undefined ? sampleId : `${sampleId}_epoch_${epoch}`;
  const fail = (reason: string): DraftResult => ({ index, reason, ...(recordId ? { recordId } : {}) });
  if (!Array.isArray(sample.messages)) return fail('The sample has no "messages" list');

  const conversion: Conversion = { attachments: isRecord(sample.attachments) ? sample.attachments : {}, warnings: [] };
  const messages: DraftMessage[] = [];
  const toolNames = new Map<string, string>();
  for (const [i, message] of sample.messages.entries()) {
    const converted = convertMessage(resolveAttachments(message, conversion), toolNames);
    if (typeof converted === 'string') return fail(`Message ${i + 1} ${converted}`);
    messages.push(converted);
  }

  const evalSpec = isRecord(header.eval) ? header.eval : {};
  const output = isRecord(sample.output) ? sample.output : {};
  const { provider, model } = splitModel(stringOf(output.model) ?? stringOf(evalSpec.model));
  const observed = dateOf(sample.started_at) ?? dateOf(evalSpec.created);
  const task = stringOf(evalSpec.task);
  const firstChoice = Array.isArray(output.choices) && isRecord(output.choices[0]) ? output.choices[0] : undefined;
  const stopReason = stringOf(firstChoice?.stop_reason);
  const title = task && sampleId !== undefined ? `${task}: sample ${sampleId}${epoch !== undefined && epoch > 1 ? ` (epoch ${epoch})` : ''}` : undefined;
  if (header.status === 'started') conversion.warnings.push('The eval log was never finished (the run may have crashed)');
  return {
    index,
    raw,
    messages,
    transcriptFormat: 'menagerie',
    ...(recordId ? { recordId } : {}),
    ...(stringOf(evalSpec.run_id) ?? stringOf(evalSpec.eval_id) ? { conversationId: stringOf(evalSpec.run_id) ?? stringOf(evalSpec.eval_id) } : {}),
    ...(title ? { title } : {}),
    ...(observed ? { observedAt: observed, createdAt: observed.toISOString() } : {}),
    ...(model ? { model } : {}),
    ...(provider ? { provider } : {}),
    ...(stopReason ? { stopReason } : {}),
    source: {
      ...(task ? { task } : {}),
      ...(stringOf(evalSpec.eval_id) ? { evalId: evalSpec.eval_id } : {}),
      ...(typeof header.status === 'string' ? { logStatus: header.status } : {}),
      ...(sample.target !== undefined ? { target: sample.target } : {}),
      ...(sample.scores !== undefined ? { scores: sample.scores } : {}),
      ...(sample.model_usage !== undefined ? { usage: sample.model_usage } : {}),
      ...(epoch !== undefined ? { epoch } : {}),
    },
    harness: 'inspect_ai',
    warnings: conversion.warnings,
  };
}

function convertMessage(message: unknown, toolNames: Map<string, string>): DraftMessage | string {
  if (!isRecord(message)) return 'is not an object with "role" and "content"';
  const role = message.role;
  if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
    return `has role ${JSON.stringify(role)}; expected system, user, assistant or tool`;
  }
  const parts = contentParts(message.content);
  if (role === 'tool') {
    const toolCallId = stringOf(message.tool_call_id);
    const texts = parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));
    const rest = parts.filter((p) => p.type !== 'text');
    const error = isRecord(message.error) ? message.error : undefined;
    const name = stringOf(message.function) ?? (toolCallId ? toolNames.get(toolCallId) : undefined);
    const result: TranscriptPart = { type: 'tool_result', ...(toolCallId ? { toolCallId } : {}), text: texts.join('\n'), ...(error ? { isError: true } : {}) };
    const errorPart: TranscriptPart[] = error ? [{ type: 'other', originalType: 'tool_error', data: error }] : [];
    return { role: 'tool', ...(name ? { name } : {}), parts: [result, ...rest, ...errorPart] };
  }
  if (role === 'assistant' && Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isRecord(call)) {
        parts.push({ type: 'other', originalType: 'tool_call', data: call });
        continue;
      }
      const id = stringOf(call.id);
      const name = stringOf(call.function) ?? '';
      if (id && name) toolNames.set(id, name);
      const args = typeof call.arguments === 'string' ? call.arguments : (JSON.stringify(call.arguments ?? {}) ?? '');
      parts.push({ type: 'tool_call', ...(id ? { id } : {}), name, arguments: args });
      if (call.parse_error != null) parts.push({ type: 'other', originalType: 'tool_call_parse_error', data: call.parse_error });
    }
  }
  return { role: role as MessageRole, parts };
}

function contentParts(content: unknown): TranscriptPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return content == null ? [] : [{ type: 'other', originalType: typeof content, data: content }];
  return content.flatMap((part): TranscriptPart[] => {
    if (!isRecord(part)) return [{ type: 'other', originalType: part === null ? 'null' : typeof part, data: part }];
    switch (part.type) {
      case 'text':
        if (typeof part.text !== 'string') break;
        if (part.refusal === true) return [{ type: 'refusal', text: part.text }];
        return Array.isArray(part.citations) && part.citations.length > 0
          ? [{ type: 'text', text: part.text }, { type: 'other', originalType: 'citations', data: part.citations }]
          : [{ type: 'text', text: part.text }];
      case 'reasoning': {
        if (typeof part.reasoning !== 'string') break;
        // Redacted reasoning is opaque provider data; the summary, when there is one, is what a person can read.
        if (part.redacted === true) return [{ type: 'reasoning', text: stringOf(part.summary) ?? '', opaque: part.reasoning }];
        const signature = stringOf(part.signature);
        return [{ type: 'reasoning', text: part.reasoning, ...(signature ? { opaque: signature } : {}) }];
      }
      case 'image':
        if (typeof part.image !== 'string') break;
        if (part.image.startsWith('data:')) {
          const mediaType = /^data:([^;,]{1,100})/.exec(part.image)?.[1];
          return [{ type: 'image', ...(mediaType ? { mediaType } : {}) }];
        }
        return [{ type: 'image', url: part.image }];
    }
    return [{ type: 'other', originalType: typeof part.type === 'string' ? part.type : 'unknown', data: part }];
  });
}

const ATTACHMENT_PREFIX = 'attachment://';

/** Replace `attachment://HASH` strings with the sample's attachment text (a copy; the raw sample is untouched). */
function resolveAttachments(value: unknown, conversion: Conversion): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(ATTACHMENT_PREFIX)) return value;
    const resolved = conversion.attachments[value.slice(ATTACHMENT_PREFIX.length)];
    if (typeof resolved === 'string') return resolved;
    conversion.warnings.push(`The attachment ${value} is not in the sample's attachments; the reference was kept`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => resolveAttachments(item, conversion));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveAttachments(item, conversion)]));
  return value;
}

/** Inspect names models `provider/model` (e.g. `openai/gpt-4o`, `hf/org/name`): the first segment is the provider. */
function splitModel(name: string | undefined): { provider?: string; model?: string } {
  if (!name) return {};
  const slash = name.indexOf('/');
  return slash === -1 ? { model: name } : { provider: name.slice(0, slash), model: name.slice(slash + 1) };
}

import type { MessageRole, TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage } from '../transcript/parse-transcript.ts';
import { buildRecord, isFailure, failureOf, isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import type { ImportResult } from './import-types.ts';
import { readDocuments } from './read-documents.ts';
import type { SourceReader } from './read-source.ts';

/**
 * OpenTelemetry GenAI spans in the OTLP/HTTP JSON encoding (`{ resourceSpans: [{ resource, scopeSpans: [{ scope,
 * spans }] }] }`): one record per span that carries `gen_ai.*` attributes or events; other spans are skipped.
 * Messages come from `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages` (JSON
 * strings or structured values, on the span or on a `gen_ai.client.inference.operation.details` event), or, from
 * older emitters, from per-message events (`gen_ai.user.message`, `gen_ai.choice`, …). Parts `text`,
 * `tool_call`, `tool_call_response`, `reasoning` and `uri` map to transcript parts; `blob`, `file` and unknown
 * parts are kept as `other`. A file holds one OTLP body, or one per line (`.jsonl`, as the collector's file
 * exporter writes).
 */
export async function* importOtelGenAI(reader: SourceReader): AsyncGenerator<DraftResult> {
  let next = 0;
  for await (const document of readDocuments(reader, 'an OTLP JSON body', () => false)) {
    if ('problem' in document) {
      yield { index: next++, reason: document.problem };
      continue;
    }
    const json = parseJson(document.raw);
    if (!json.ok) {
      yield { index: next++, reason: json.reason };
      continue;
    }
    for (const draft of otlpSpanDrafts(json.value, next)) {
      next = draft.index + 1;
      yield draft;
    }
  }
}

/**
 * Parse one OTLP/HTTP JSON body (what a receiver at `/v1/traces` gets) into records or per-span failures.
 * The raw record of a span is `{ resource, scope, span }` as JSON, so it is self-contained and hashes stably.
 */
export function parseOtlpTraces(body: unknown, fileName = 'otlp'): ImportResult[] {
  return otlpSpanDrafts(body, 0).map((draft) => (isFailure(draft) ? failureOf(draft, fileName) : buildRecord(draft, fileName, 'otel-genai')));
}

/** Record drafts for the GenAI spans of one OTLP body; indexes count every span, from `firstIndex`. */
export function otlpSpanDrafts(body: unknown, firstIndex: number): DraftResult[] {
  if (!isRecord(body) || !Array.isArray(body.resourceSpans)) {
    return [{ index: firstIndex, reason: 'An OTLP traces body is a JSON object with "resourceSpans"' }];
  }
  const drafts: DraftResult[] = [];
  let index = firstIndex;
  for (const resourceSpans of body.resourceSpans) {
    if (!isRecord(resourceSpans)) continue;
    const resource = isRecord(resourceSpans.resource) ? resourceSpans.resource : {};
    const scopeSpansList = Array.isArray(resourceSpans.scopeSpans) ? resourceSpans.scopeSpans : Array.isArray(resourceSpans.instrumentationLibrarySpans) ? resourceSpans.instrumentationLibrarySpans : [];
    for (const scopeSpans of scopeSpansList) {
      if (!isRecord(scopeSpans) || !Array.isArray(scopeSpans.spans)) continue;
      const scope = isRecord(scopeSpans.scope) ? scopeSpans.scope : {};
      for (const span of scopeSpans.spans) {
        const spanIndex = index++;
        if (!isRecord(span)) {
          drafts.push({ index: spanIndex, reason: 'The span is not a JSON object' });
          continue;
        }
        if (!isGenAISpan(span)) continue;
        drafts.push(spanDraft(span, resource, scope, spanIndex));
      }
    }
  }
  return drafts;
}

function isGenAISpan(span: JsonObject): boolean {
  const attributes = Array.isArray(span.attributes) ? span.attributes : [];
  const events = Array.isArray(span.events) ? span.events : [];
  return (
    attributes.some((a) => isRecord(a) && typeof a.key === 'string' && a.key.startsWith('gen_ai.')) ||
    events.some((e) => isRecord(e) && typeof e.name === 'string' && e.name.startsWith('gen_ai.'))
  );
}

function spanDraft(span: JsonObject, resource: JsonObject, scope: JsonObject, index: number): DraftResult {
  const attributes = attributesOf(span.attributes);
  const events = (Array.isArray(span.events) ? span.events : []).filter(isRecord).map((e) => ({ name: String(e.name ?? ''), attributes: attributesOf(e.attributes) }));
  const spanId = stringOf(span.spanId);
  const recordId = spanId;
  const fail = (reason: string): DraftResult => ({ index, reason, ...(recordId ? { recordId } : {}) });

  const details = events.find((e) => e.name === 'gen_ai.client.inference.operation.details')?.attributes ?? {};
  const pick = (key: string) => attributes[key] ?? details[key];
  const messages: DraftMessage[] = [];
  const problems: string[] = [];
  const system = structured(pick('gen_ai.system_instructions'), 'gen_ai.system_instructions', problems);
  if (Array.isArray(system) && system.length > 0) messages.push({ role: 'system', parts: system.flatMap(partOf) });
  else if (typeof system === 'string' && system !== '') messages.push({ role: 'system', parts: [{ type: 'text', text: system }] });
  for (const key of ['gen_ai.input.messages', 'gen_ai.output.messages']) {
    const list = structured(pick(key), key, problems);
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push(`"${key}" is not a list of messages`);
      continue;
    }
    for (const message of list) {
      const converted = messageOf(message);
      if (typeof converted === 'string') problems.push(`"${key}": ${converted}`);
      else messages.push(converted);
    }
  }
  if (messages.length === 0) messages.push(...eventMessages(events));
  if (problems.length > 0) return fail(problems.join('; '));
  if (messages.length === 0) {
    return fail('The span records no message content (gen_ai.input.messages / gen_ai.output.messages are opt-in: enable content capture in the instrumentation)');
  }

  const model = stringOf(attributes['gen_ai.response.model']) ?? stringOf(attributes['gen_ai.request.model']);
  const provider = stringOf(attributes['gen_ai.provider.name']) ?? stringOf(attributes['gen_ai.system']);
  const start = nanosToDate(span.startTimeUnixNano);
  const end = nanosToDate(span.endTimeUnixNano);
  const finishReasons = attributes['gen_ai.response.finish_reasons'];
  const stopReason = Array.isArray(finishReasons) ? finishReasons.filter((r) => typeof r === 'string').join(',') : stringOf(finishReasons);
  const usage = Object.fromEntries(Object.entries(attributes).filter(([key]) => key.startsWith('gen_ai.usage.')));
  const evaluations = events.filter((e) => e.name === 'gen_ai.evaluation.result').map((e) => e.attributes);
  const resourceAttributes = attributesOf(resource.attributes);
  const conversationId = stringOf(attributes['gen_ai.conversation.id']) ?? stringOf(span.traceId);
  const raw = JSON.stringify({ resource, scope, span });
  return {
    index,
    raw,
    messages,
    transcriptFormat: 'menagerie',
    ...(recordId ? { recordId } : {}),
    ...(conversationId ? { conversationId } : {}),
    ...(start ? { observedAt: start, createdAt: start.toISOString() } : {}),
    ...(end ? { updatedAt: end.toISOString() } : {}),
    ...(model ? { model } : {}),
    ...(provider ? { provider } : {}),
    ...(stopReason ? { stopReason } : {}),
    ...(typeof span.name === 'string' ? { title: span.name } : {}),
    source: {
      ...(stringOf(span.traceId) ? { traceId: span.traceId } : {}),
      ...(stringOf(span.parentSpanId) ? { parentSpanId: span.parentSpanId } : {}),
      ...(stringOf(attributes['gen_ai.operation.name']) ? { operation: attributes['gen_ai.operation.name'] } : {}),
      ...(stringOf(attributes['gen_ai.response.id']) ? { responseId: attributes['gen_ai.response.id'] } : {}),
      ...(stringOf(resourceAttributes['service.name']) ? { service: resourceAttributes['service.name'] } : {}),
      ...(Object.keys(usage).length > 0 ? { usage } : {}),
      ...(evaluations.length > 0 ? { evaluations } : {}),
      ...(attributes['gen_ai.tool.definitions'] !== undefined ? { toolDefinitions: attributes['gen_ai.tool.definitions'] } : {}),
    },
  };
}

/** Content attributes are JSON strings by the spec, but some emitters send structured OTLP values. */
function structured(value: unknown, key: string, problems: string[]): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return value;
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    problems.push(`"${key}" is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

const ROLES: readonly string[] = ['system', 'developer', 'user', 'assistant', 'tool'];

function messageOf(message: unknown): DraftMessage | string {
  if (!isRecord(message)) return 'a message is not an object with "role" and "parts"';
  if (typeof message.role !== 'string' || !ROLES.includes(message.role)) {
    return `a message has role ${JSON.stringify(message.role)}; expected ${ROLES.join(', ')}`;
  }
  const parts: TranscriptPart[] = Array.isArray(message.parts)
    ? message.parts.flatMap(partOf)
    : typeof message.content === 'string'
      ? [{ type: 'text', text: message.content }]
      : [];
  if (typeof message.finish_reason === 'string' && message.finish_reason !== 'stop') {
    parts.push({ type: 'other', originalType: 'finish_reason', data: message.finish_reason });
  }
  return { role: message.role as MessageRole, ...(stringOf(message.name) ? { name: stringOf(message.name)! } : {}), parts };
}

function partOf(part: unknown): TranscriptPart[] {
  if (typeof part === 'string') return [{ type: 'text', text: part }];
  if (!isRecord(part)) return [{ type: 'other', originalType: part === null ? 'null' : typeof part, data: part }];
  switch (part.type) {
    case 'text':
      if (typeof part.content === 'string') return [{ type: 'text', text: part.content }];
      break;
    case 'reasoning':
      if (typeof part.content === 'string') return [{ type: 'reasoning', text: part.content }];
      break;
    case 'tool_call': {
      const id = stringOf(part.id);
      const args = typeof part.arguments === 'string' ? part.arguments : part.arguments === undefined ? '' : (JSON.stringify(part.arguments) ?? '');
      return [{ type: 'tool_call', ...(id ? { id } : {}), name: typeof part.name === 'string' ? part.name : '', arguments: args }];
    }
    case 'tool_call_response': {
      const id = stringOf(part.id);
      const text = typeof part.response === 'string' ? part.response : part.response === undefined ? '' : (JSON.stringify(part.response) ?? '');
      return [{ type: 'tool_result', ...(id ? { toolCallId: id } : {}), text }];
    }
    case 'uri':
      if (typeof part.uri === 'string' && part.modality === 'image') {
        return [{ type: 'image', url: part.uri, ...(stringOf(part.mime_type) ? { mediaType: stringOf(part.mime_type)! } : {}) }];
      }
      break;
  }
  return [{ type: 'other', originalType: typeof part.type === 'string' ? part.type : 'unknown', data: part }];
}

const EVENT_ROLES: Record<string, MessageRole> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
  'gen_ai.choice': 'assistant',
};

/** Older emitters: one span event per message, the content in attributes (or a JSON `gen_ai.event.content`). */
function eventMessages(events: { name: string; attributes: JsonObject }[]): DraftMessage[] {
  const messages: DraftMessage[] = [];
  for (const event of events) {
    const role = EVENT_ROLES[event.name];
    if (!role) continue;
    const packed = structured(event.attributes['gen_ai.event.content'] ?? event.attributes['body'], 'gen_ai.event.content', []);
    let body: JsonObject = isRecord(packed) ? packed : event.attributes;
    if (event.name === 'gen_ai.choice' && isRecord(body.message)) body = { ...body.message, finish_reason: body.finish_reason };
    const content = structured(body.content, 'content', []);
    const parts: TranscriptPart[] = [];
    if (typeof content === 'string' && content !== '') parts.push({ type: 'text', text: content });
    else if (Array.isArray(content)) parts.push(...content.flatMap((c) => (isRecord(c) && typeof c.text === 'string' ? [{ type: 'text' as const, text: c.text }] : partOf(c))));
    const toolCalls = structured(body.tool_calls, 'tool_calls', []);
    if (Array.isArray(toolCalls)) {
      for (const call of toolCalls) {
        const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
        if (!fn) {
          parts.push({ type: 'other', originalType: 'tool_call', data: call });
          continue;
        }
        const id = isRecord(call) ? stringOf(call.id) : undefined;
        const args = typeof fn.arguments === 'string' ? fn.arguments : (JSON.stringify(fn.arguments ?? {}) ?? '');
        parts.push({ type: 'tool_call', ...(id ? { id } : {}), name: typeof fn.name === 'string' ? fn.name : '', arguments: args });
      }
    }
    if (role === 'tool') {
      const id = stringOf(body.id);
      const texts = parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));
      messages.push({ role, parts: [{ type: 'tool_result', ...(id ? { toolCallId: id } : {}), text: texts.join('\n') }, ...parts.filter((p) => p.type !== 'text')] });
    } else messages.push({ role, parts });
  }
  return messages;
}

/** OTLP attributes (`[{ key, value: AnyValue }]`) as a plain object. */
function attributesOf(list: unknown): JsonObject {
  const result: JsonObject = {};
  if (!Array.isArray(list)) return result;
  for (const attribute of list) if (isRecord(attribute) && typeof attribute.key === 'string') result[attribute.key] = anyValue(attribute.value);
  return result;
}

function anyValue(value: unknown): unknown {
  if (!isRecord(value)) return value;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return typeof value.intValue === 'string' ? Number(value.intValue) : value.intValue;
  if ('doubleValue' in value) return value.doubleValue;
  if ('bytesValue' in value) return value.bytesValue;
  if (isRecord(value.arrayValue)) return Array.isArray(value.arrayValue.values) ? value.arrayValue.values.map(anyValue) : [];
  if (isRecord(value.kvlistValue)) return attributesOf(value.kvlistValue.values);
  return undefined;
}

function nanosToDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    const millis = Number(BigInt(value) / 1_000_000n);
    return millis > 0 ? new Date(millis) : undefined;
  } catch {
    return undefined;
  }
}

import type { z } from 'zod';
import {
  messageRoles,
  transcriptFormats,
  transcriptPartSchema,
  transcriptSchema,
  type Transcript,
  type TranscriptFormat,
  type TranscriptMessage,
} from '../transcript.schema.ts';
import { anthropicMessagesEvidence, parseAnthropicMessages } from './parse-anthropic-messages.ts';
import { openAIChatEvidence, parseOpenAIChat } from './parse-openai-chat.ts';
import { NO_ROLE_LABEL_MESSAGE, hasPlainRoleLabel, parsePlainTranscript } from './parse-plain.ts';

/** A problem with the pasted text, worded for the person who pasted it. */
export type TranscriptParseError = {
  message: string;
  /** 1-based line in the pasted text, when the problem sits on one line (broken JSON). */
  line?: number;
  /** Where in the pasted JSON the problem is, e.g. `['messages', 1, 'role']`. */
  path?: (string | number)[];
};

/** Facts about the exchange that the pasted payload carried but the transcript has no field for. */
export type TranscriptMetadata = { model?: string; stopReason?: string };

export type ParseResult =
  | { ok: true; transcript: Transcript; warnings: string[]; metadata?: TranscriptMetadata }
  | { ok: false; error: TranscriptParseError };

export type TranscriptFormatChoice = 'auto' | TranscriptFormat;

/** A message as a per-format parser builds it; ids are handed out once, in order, by `parseTranscript`. */
export type DraftMessage = Omit<TranscriptMessage, 'id'>;

/** What each per-format parser returns to the dispatcher. */
export type FormatParseResult =
  | { ok: true; messages: DraftMessage[]; warnings: string[]; metadata?: TranscriptMetadata }
  | { ok: false; error: TranscriptParseError };

/**
 * How well parsed JSON matches a JSON format: `fits` says the parser can read its shape,
 * `score` counts markers only that format has (used to choose when both fit).
 */
export type FormatEvidence = { fits: boolean; score: number };

type JsonFormat = Exclude<TranscriptFormat, 'plain'>;

type InputReading =
  | { kind: 'empty' }
  | { kind: 'json'; value: unknown; format: JsonFormat | null }
  | { kind: 'broken-json'; error: TranscriptParseError; hasRoleLabels: boolean }
  | { kind: 'text'; hasRoleLabels: boolean };

const EMPTY_MESSAGE = 'The transcript is empty: paste a conversation, for example a "User:" line followed by an "Assistant:" line';

const UNRECOGNISED_JSON_MESSAGE =
  'The JSON is not a transcript format Menagerie knows: expected an array of chat messages, an object with "messages" ' +
  '(an OpenAI or Anthropic request), a chat completion with "choices", an Anthropic message with "content", ' +
  'or a Menagerie transcript with "messages" that have "parts"';

/**
 * Guess which format a pasted transcript is in, so the form and the API can accept a paste without asking.
 * Returns null when the text is empty or matches no format (`parseTranscript` then explains why).
 */
export function detectTranscriptFormat(input: string): TranscriptFormat | null {
  try {
    const reading = readInput(input);
    switch (reading.kind) {
      case 'json':
        return reading.format;
      case 'broken-json':
      case 'text':
        return reading.hasRoleLabels ? 'plain' : null;
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/**
 * Parse a pasted transcript (plain text with role labels, OpenAI Chat Completions JSON, Anthropic Messages JSON,
 * or an already normalised Menagerie transcript) into a schema-valid `Transcript` with message ids `m1`, `m2`, ….
 * Never throws: any input string yields either a transcript or an error a person can act on.
 */
export function parseTranscript(input: string, format: TranscriptFormatChoice = 'auto'): ParseResult {
  return neverThrowing(() => parseOrFail(input, format));
}

/**
 * Parse a transcript that arrived as JSON already parsed (an API body's `transcript` object or array): the same
 * result as `parseTranscript(JSON.stringify(value), format)` without writing the JSON out and reading it back.
 * Never throws.
 */
export function parseTranscriptValue(value: object, format: TranscriptFormatChoice = 'auto'): ParseResult {
  // Plain text has no JSON reading; the text path says what is wrong with JSON given as `plain`.
  if (format === 'plain') return parseTranscript(JSON.stringify(value), format);
  return neverThrowing(() => {
    if (format === 'auto') {
      const detected = classifyJson(value);
      return detected ? parseJsonAs(detected, value) : failure(UNRECOGNISED_JSON_MESSAGE);
    }
    return isKnownFormat(format) ? parseJsonAs(format, value) : unknownFormat(format);
  });
}

/** Any thrown error as a failure a person can read. */
function neverThrowing(parse: () => ParseResult): ParseResult {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RangeError) return failure('The transcript is nested too deeply to read');
    return failure(`Menagerie could not read this transcript because of an internal error (${describeThrown(error)})`);
  }
}

function isKnownFormat(format: TranscriptFormatChoice): format is TranscriptFormat {
  return (transcriptFormats as readonly string[]).includes(format);
}

function unknownFormat(format: TranscriptFormatChoice): ParseResult {
  return failure(`Unknown transcript format "${String(format)}"; expected auto, ${transcriptFormats.join(', ')}`);
}

function parseOrFail(input: string, format: TranscriptFormatChoice): ParseResult {
  if (typeof input !== 'string') return failure('The transcript must be text');
  if (format !== 'auto' && !isKnownFormat(format)) return unknownFormat(format);
  const text = stripByteOrderMark(input);
  if (text.trim() === '') return failure(EMPTY_MESSAGE);

  if (format === 'plain') return finish('plain', parsePlainTranscript(text));
  if (format !== 'auto') {
    const json = readJson(text);
    if (!json.ok) return { ok: false, error: { ...json.error, message: `The ${format} format is JSON, but the text does not parse: ${json.error.message}` } };
    return parseJsonAs(format, json.value);
  }

  const reading = readInput(text);
  switch (reading.kind) {
    case 'empty':
      return failure(EMPTY_MESSAGE);
    case 'json':
      return reading.format ? parseJsonAs(reading.format, reading.value) : failure(UNRECOGNISED_JSON_MESSAGE);
    case 'broken-json':
      if (!reading.hasRoleLabels) {
        return { ok: false, error: { ...reading.error, message: `The transcript looks like JSON but does not parse: ${reading.error.message}` } };
      }
      // A plain transcript can open with a bracketed note; role labels at line starts never occur in real JSON.
      return finish('plain', parsePlainTranscript(text), [
        'The text starts like JSON but is not valid JSON, so it was read as a plain transcript with role labels',
      ]);
    case 'text':
      return reading.hasRoleLabels ? finish('plain', parsePlainTranscript(text)) : failure(NO_ROLE_LABEL_MESSAGE);
  }
}

function readInput(input: string): InputReading {
  if (typeof input !== 'string') return { kind: 'empty' };
  const text = stripByteOrderMark(input);
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty' };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const json = readJson(text);
    if (json.ok) return { kind: 'json', value: json.value, format: classifyJson(json.value) };
    return { kind: 'broken-json', error: json.error, hasRoleLabels: hasPlainRoleLabel(text) };
  }
  return { kind: 'text', hasRoleLabels: hasPlainRoleLabel(text) };
}

function classifyJson(value: unknown): JsonFormat | null {
  if (looksLikeMenagerie(value)) return 'menagerie';
  const openai = openAIChatEvidence(value);
  const anthropic = anthropicMessagesEvidence(value);
  // Plain user/assistant string messages fit both; the OpenAI reading is the simpler one, so it wins ties.
  if (anthropic.fits && anthropic.score > openai.score) return 'anthropic-messages';
  if (openai.fits) return 'openai-chat';
  if (anthropic.fits) return 'anthropic-messages';
  return null;
}

function looksLikeMenagerie(value: unknown): boolean {
  if (!isRecord(value) || !Array.isArray(value.messages)) return false;
  const messages: unknown[] = value.messages;
  const allHaveParts = messages.every((m) => isRecord(m) && Array.isArray(m.parts) && !('content' in m));
  return allHaveParts && (messages.length > 0 || (transcriptFormats as readonly unknown[]).includes(value.format));
}

function parseJsonAs(format: JsonFormat, value: unknown): ParseResult {
  switch (format) {
    case 'openai-chat':
      return finish(format, parseOpenAIChat(value));
    case 'anthropic-messages':
      return finish(format, parseAnthropicMessages(value));
    case 'menagerie':
      return parseMenagerie(value);
  }
}

/** Hand out ids in order and hold the result to the transcript contract. */
function finish(format: TranscriptFormat, result: FormatParseResult, extraWarnings: string[] = []): ParseResult {
  if (!result.ok) return result;
  const messages = result.messages.map((message, i) => ({ id: `m${i + 1}`, ...message }));
  const checked = transcriptSchema.safeParse({ format, messages });
  if (!checked.success) return { ok: false, error: { message: describeSchemaIssues(checked.error.issues, messages) } };
  const warnings = [...extraWarnings, ...result.warnings];
  const metadata = result.metadata && Object.keys(result.metadata).length > 0 ? { metadata: result.metadata } : {};
  return { ok: true, transcript: checked.data, warnings, ...metadata };
}

function parseMenagerie(value: unknown): ParseResult {
  if (!isRecord(value) || !Array.isArray(value.messages)) {
    return failure('A Menagerie transcript is a JSON object with "messages": [{ "id", "role", "parts" }, …]');
  }
  const warnings: string[] = [];
  const messages = withMissingIdsFilled(value.messages, warnings);
  const checked = transcriptSchema.safeParse({ format: 'menagerie', messages });
  if (!checked.success) {
    const first = checked.error.issues[0];
    const path = first ? first.path.map((key) => (typeof key === 'symbol' ? String(key) : key)) : undefined;
    return { ok: false, error: { message: describeSchemaIssues(checked.error.issues, messages), ...(path ? { path } : {}) } };
  }
  return { ok: true, transcript: checked.data, warnings };
}

/** Keep the ids a Menagerie transcript has (codings point at them) and give the rest unused `mN` ids. */
function withMissingIdsFilled(messages: unknown[], warnings: string[]): unknown[] {
  const used = new Set(messages.flatMap((m) => (isRecord(m) && typeof m.id === 'string' && m.id !== '' ? [m.id] : [])));
  const filled: number[] = [];
  let next = 1;
  const result = messages.map((m, i) => {
    if (!isRecord(m) || 'id' in m) return m;
    while (used.has(`m${next}`)) next++;
    used.add(`m${next}`);
    filled.push(i + 1);
    return { id: `m${next}`, ...m };
  });
  if (filled.length > 0) warnings.push(`Message${filled.length > 1 ? 's' : ''} ${listNumbers(filled)} had no id and were given one`);
  return result;
}

type SchemaIssue = z.core.$ZodIssue;

const PART_TYPES = transcriptPartSchema.options.map((option) => option.shape.type.value);

function describeSchemaIssues(issues: readonly SchemaIssue[], messages: unknown[]): string {
  const first = issues[0];
  if (!first) return 'The transcript does not match the transcript schema';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return describeSchemaIssue(first, messages) + more;
}

function describeSchemaIssue(issue: SchemaIssue, messages: unknown[]): string {
  const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  if (path.length <= 1) {
    if (issue.code === 'too_small') return 'The transcript has no messages';
    if (issue.code === 'too_big') return `The transcript has ${messages.length} messages; at most ${String(issue.maximum)} fit in one transcript`;
    return `${path.length === 1 ? `The transcript field "${String(path[0])}"` : 'The transcript'} is invalid: ${issue.message}`;
  }
  const index = typeof path[1] === 'number' ? path[1] : Number(path[1]);
  const message: unknown = messages[index];
  const lead = `Message ${index + 1}`;
  const [field, partIndex, partField] = path.slice(2);
  if (field === undefined) return `${lead} must be an object with "id", "role" and "parts"`;
  if (field === 'role') {
    const role = isRecord(message) ? message.role : undefined;
    const seen = role === undefined ? 'has no "role"' : `has role ${JSON.stringify(role) ?? String(role)}`;
    return `${lead} ${seen}; expected one of ${messageRoles.join(', ')}`;
  }
  if (field === 'id') {
    if (issue.code === 'custom') return `${lead} ${issue.message.replace('duplicate', 'has a duplicate')}`;
    if (issue.code === 'too_small') return `${lead} has an empty id`;
    return `${lead} has an invalid id: ${issue.message}`;
  }
  if (field === 'parts' && partIndex === undefined) {
    if (issue.code === 'too_big') return `${lead} has more than ${String(issue.maximum)} parts`;
    return `${lead} needs a "parts" array`;
  }
  if (field === 'parts' && typeof partIndex === 'number') {
    const partLead = `${lead}, part ${partIndex + 1}`;
    if (issue.code === 'invalid_union' && partField === 'type') {
      const part = isRecord(message) && Array.isArray(message.parts) ? message.parts[partIndex] : undefined;
      const type = isRecord(part) ? part.type : undefined;
      const seen = type === undefined ? 'has no "type"' : `has type ${JSON.stringify(type) ?? String(type)}`;
      return `${partLead} ${seen}; expected one of ${PART_TYPES.join(', ')}`;
    }
    if (issue.code === 'too_big' && issue.origin === 'string') {
      return `${partLead}: "${String(partField)}" is longer than the limit of ${String(issue.maximum)} characters`;
    }
    return `${partLead}${partField === undefined ? '' : `, field "${String(partField)}"`}: ${issue.message}`;
  }
  return `${lead}, field "${path.slice(2).join('.')}": ${issue.message}`;
}

type JsonReading = { ok: true; value: unknown } | { ok: false; error: TranscriptParseError };

function readJson(text: string): JsonReading {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // Node 20's JSON.parse messages often omit the position, so find the first syntax error ourselves.
    const found = findJsonSyntaxError(text);
    if (!found) return { ok: false, error: { message: describeThrown(error) } };
    const { line, column } = lineAndColumn(text, found.offset);
    return { ok: false, error: { message: `${found.reason} at line ${line}, column ${column}`, line } };
  }
}

type JsonExpectation = 'value' | 'value-or-close' | 'key-or-close' | 'key' | 'colon' | 'comma-or-close' | 'end';

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const JSON_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The offset and a plain-words reason for the first JSON syntax error; iterative so deep nesting cannot overflow. */
function findJsonSyntaxError(text: string): { offset: number; reason: string } | null {
  const open: string[] = [];
  let expect: JsonExpectation = 'value';
  let afterComma = false;
  let i = 0;
  while (true) {
    while (i < text.length && JSON_WHITESPACE.has(text[i]!)) i++;
    if (i >= text.length) {
      if (expect === 'end') return null;
      const closer = open.at(-1) === '{' ? '}' : open.at(-1) === '[' ? ']' : undefined;
      return { offset: i, reason: `Unexpected end of input${closer ? ` (a closing "${closer}" is missing)` : ''}` };
    }
    const justAfterComma = afterComma;
    afterComma = false;
    const c = text[i]!;
    switch (expect) {
      case 'value':
      case 'value-or-close': {
        if (c === ']' && expect === 'value-or-close') {
          open.pop();
          i++;
          expect = afterValue(open);
          break;
        }
        if ((c === ']' || c === '}') && justAfterComma) return { offset: i, reason: `Trailing comma before "${c}"` };
        if (c === '{' || c === '[') {
          open.push(c);
          expect = c === '{' ? 'key-or-close' : 'value-or-close';
          i++;
          break;
        }
        if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          expect = afterValue(open);
          break;
        }
        JSON_NUMBER.lastIndex = i;
        const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
        if (literal) i += literal.length;
        else if (JSON_NUMBER.test(text)) i = JSON_NUMBER.lastIndex;
        else return { offset: i, reason: unexpectedToken(text, i) };
        expect = afterValue(open);
        break;
      }
      case 'key-or-close':
      case 'key': {
        if (c === '}' && expect === 'key-or-close') {
          open.pop();
          i++;
          expect = afterValue(open);
          break;
        }
        if (c === '}') return { offset: i, reason: 'Trailing comma before "}"' };
        if (c !== '"') return { offset: i, reason: `${unexpectedToken(text, i)} (property names need double quotes)` };
        const end = scanString(text, i);
        if (typeof end !== 'number') return end;
        i = end;
        expect = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') return { offset: i, reason: `${unexpectedToken(text, i)} (expected ":" after the property name)` };
        i++;
        expect = 'value';
        break;
      case 'comma-or-close': {
        const top = open.at(-1);
        if (c === ',') {
          expect = top === '{' ? 'key' : 'value';
          afterComma = true;
          i++;
        } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
          open.pop();
          i++;
          expect = afterValue(open);
        } else {
          return { offset: i, reason: `${unexpectedToken(text, i)} (expected "," or "${top === '{' ? '}' : ']'}")` };
        }
        break;
      }
      case 'end':
        return { offset: i, reason: `${unexpectedToken(text, i)} after the end of the JSON` };
    }
  }
}

function afterValue(open: string[]): JsonExpectation {
  return open.length === 0 ? 'end' : 'comma-or-close';
}

/** Scan a JSON string starting at its opening quote; returns the offset after the closing quote, or the error. */
function scanString(text: string, start: number): number | { offset: number; reason: string } {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return i + 1;
    if (c === '\\') {
      const escaped = text[i + 1];
      if (escaped === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, reason: 'Invalid \\u escape in a string' };
        i += 6;
        continue;
      }
      if (escaped === undefined || !JSON_ESCAPES.has(escaped)) return { offset: i, reason: 'Invalid escape in a string' };
      i += 2;
      continue;
    }
    if (c === '\n' || c === '\r') return { offset: i, reason: 'Line break inside a string (write it as \\n)' };
    if (c.charCodeAt(0) < 0x20) return { offset: i, reason: 'Control character inside a string' };
    i++;
  }
  return { offset: start, reason: 'Unterminated string' };
}

function unexpectedToken(text: string, offset: number): string {
  const word = /[A-Za-z_$][\w$]{0,30}/y;
  word.lastIndex = offset;
  const token = word.exec(text)?.[0] ?? text.slice(offset, offset + 1);
  const hint = token === "'" ? ' (JSON strings need double quotes)' : '';
  return `Unexpected token ${JSON.stringify(token)}${hint}`;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function stripByteOrderMark(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

function failure(message: string): ParseResult {
  return { ok: false, error: { message } };
}

function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unknown error';
  }
}

function listNumbers(numbers: number[]): string {
  return numbers.length <= 5 ? numbers.join(', ') : `${numbers.slice(0, 5).join(', ')} and ${numbers.length - 5} more`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

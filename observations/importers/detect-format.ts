import { AppError } from '../../core/errors.ts';
import { anthropicMessagesEvidence } from '../transcript/parse-anthropic-messages.ts';
import { openAIChatEvidence } from '../transcript/parse-openai-chat.ts';
import { importFormatLabels, importFormats, type ImportFormat } from './import-types.ts';

/**
 * Tell a source's format from its file name and its first bytes (up to 64 KiB: a big export is never read
 * whole to decide). Returns null when nothing fits; `unknownFormatError` then names the formats tried.
 */
export function detectFormat(fileName: string, head: Buffer): ImportFormat | null {
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return /\.eval$/i.test(fileName) || head.includes('_journal/') || head.includes('header.json') || head.includes('samples/') ? 'inspect-log' : null;
  if (/\.eval$/i.test(fileName)) return 'inspect-log';
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (/\.(jsonl|ndjson)$/i.test(fileName) || looksLikeJsonLines(start)) return detectLine(firstLine(start));
  if (start.startsWith('[')) return detectArray(start, fileName);
  if (start.startsWith('{')) return detectObject(start);
  return null;
}

/** The error for a source no importer recognises, naming every format tried. */
export function unknownFormatError(fileName: string): AppError {
  const tried = importFormats.map((format) => `${format} (${importFormatLabels[format]})`).join(', ');
  return new AppError('validation_failed', `Menagerie could not tell what format ${fileName} is in. Formats tried: ${tried}. Choose the format explicitly if it is one of these.`, {
    formatsTried: [...importFormats],
  });
}

function detectArray(text: string, fileName: string): ImportFormat | null {
  if (has(text, 'mapping') && (has(text, 'current_node') || has(text, 'create_time'))) return 'chatgpt-export';
  if (has(text, 'chat_messages') || has(text, 'current_leaf_message_uuid')) return 'claude-export';
  if (/^conversations(-\d+)?\.json$/i.test(fileName.split(/[\\/]/).pop() ?? '') && has(text, 'mapping')) return 'chatgpt-export';
  if (has(text, 'resourceSpans')) return 'otel-genai';
  // An array of messages or of exchanges: the object rules decide.
  const whole = parsed(text);
  if (Array.isArray(whole) && isRecord(whole[0])) {
    return detectObject(JSON.stringify(typeof whole[0].role === 'string' && whole[0].type === undefined ? { messages: whole } : whole[0]));
  }
  const first = text.slice(1).trimStart();
  if (first.startsWith('{')) return detectObject(first) ?? (has(text, 'role') ? 'openai-chat' : null);
  return null;
}

function detectObject(text: string): ImportFormat | null {
  if (has(text, 'resourceSpans')) return 'otel-genai';
  const whole = parsed(text);
  if (whole !== undefined && !has(text, 'eval') && !isResponses(text)) {
    // The whole document is in hand: let the paste parser's evidence choose between the two chat formats.
    const value = isRecord(whole) && typeof whole.custom_id === 'string' ? (whole.body ?? whole.params ?? whole.result ?? whole.response) : whole;
    const openai = openAIChatEvidence(value);
    const anthropic = anthropicMessagesEvidence(isRecord(value) && isRecord(value.message) ? value.message : value);
    if (anthropic.fits && anthropic.score > openai.score) return 'anthropic-messages';
    if (openai.fits) return 'openai-chat';
    if (anthropic.fits) return 'anthropic-messages';
  }
  if (has(text, 'eval') && (has(text, 'samples') || has(text, 'plan') || has(text, 'results')) && has(text, 'version')) return 'inspect-log';
  if (isResponses(text)) return 'openai-responses';
  if (has(text, 'choices') || valueIs(text, 'object', 'chat.completion') || has(text, 'tool_calls') || has(text, 'tool_call_id') || has(text, 'refusal') ||
    valueIs(text, 'role', 'developer') || valueIs(text, 'role', 'system') || valueIs(text, 'role', 'tool') || typeIs(text, 'image_url')) {
    return 'openai-chat';
  }
  if (typeIs(text, 'message') || has(text, 'stop_reason') || has(text, 'system') || typeIs(text, 'tool_use') || typeIs(text, 'tool_result') ||
    typeIs(text, 'thinking') || typeIs(text, 'redacted_thinking')) {
    return 'anthropic-messages';
  }
  if (has(text, 'messages') || has(text, 'role')) return 'openai-chat';
  return null;
}

function detectLine(line: string): ImportFormat | null {
  if (!line.startsWith('{')) return null;
  if (has(line, 'resourceSpans')) return 'otel-genai';
  if (has(line, 'messages') && has(line, 'provider') && has(line, 'model')) return 'jsonl';
  if (has(line, 'custom_id') && (has(line, 'result') || has(line, 'params'))) return 'anthropic-messages';
  if (has(line, 'custom_id')) return 'openai-chat';
  return detectObject(line);
}

function isResponses(text: string): boolean {
  return (
    valueIs(text, 'object', 'response') || has(text, 'previous_response_id') || typeIs(text, 'function_call') || typeIs(text, 'function_call_output') ||
    typeIs(text, 'input_text') || typeIs(text, 'output_text') || (has(text, 'input') && has(text, 'instructions'))
  );
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeJsonLines(text: string): boolean {
  const lines = text.split('\n', 3).map((l) => l.trim()).filter(Boolean);
  return lines.length >= 2 && lines.every((l) => l.startsWith('{')) && lines[0]!.endsWith('}');
}

function firstLine(text: string): string {
  const newline = text.indexOf('\n');
  return (newline === -1 ? text : text.slice(0, newline)).trim();
}

/** True when `key` appears as a JSON property name. */
function has(text: string, key: string): boolean {
  return new RegExp(`"${key}"\\s*:`).test(text);
}

function valueIs(text: string, key: string, value: string): boolean {
  return new RegExp(`"${key}"\\s*:\\s*"${value.replace('.', '\\.')}"`).test(text);
}

function typeIs(text: string, value: string): boolean {
  return valueIs(text, 'type', value);
}

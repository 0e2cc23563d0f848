import { importAnthropicMessages } from './anthropic-messages.importer.ts';
import { buildRecord, failureOf, isFailure, type DraftResult } from './build-record.ts';
import { importChatGPTExport } from './chatgpt-export.importer.ts';
import { importClaudeExport } from './claude-export.importer.ts';
import { detectFormat, unknownFormatError } from './detect-format.ts';
import { importInspectLog } from './inspect-log.importer.ts';
import { DEFAULT_MAX_IMPORT_BYTES, importFormats, type ImportFormat, type ImportOptions, type ImportResult, type ImportSource } from './import-types.ts';
import { importJsonl } from './jsonl.importer.ts';
import { importOpenAIChat } from './openai-chat.importer.ts';
import { importOpenAIResponses } from './openai-responses.importer.ts';
import { importOtelGenAI } from './otel-genai.importer.ts';
import { SourceReader } from './read-source.ts';
import { AppError } from '../../core/errors.ts';

const importers: Record<ImportFormat, (reader: SourceReader) => AsyncIterable<DraftResult>> = {
  'inspect-log': importInspectLog,
  'chatgpt-export': importChatGPTExport,
  'claude-export': importClaudeExport,
  'otel-genai': importOtelGenAI,
  'openai-responses': importOpenAIResponses,
  'openai-chat': importOpenAIChat,
  'anthropic-messages': importAnthropicMessages,
  jsonl: importJsonl,
};

/**
 * Read a file or stream record by record: each record comes out as an `ImportedRecord` (transcript, provenance,
 * raw text and its sha256) or an `ImportFailure` (index and reason) while the rest go on. The format is detected
 * unless given. Problems with the whole source throw an `AppError`: too large (`payload_too_large`, before any
 * record when the size is known up front), unknown format, corrupt ZIP, a file that is not the format's
 * container (`validation_failed`). Sources are streamed: memory holds one record at a time, except for the
 * formats that are one JSON document (see README).
 */
export async function* importRecords(source: ImportSource, options: ImportOptions = {}): AsyncGenerator<ImportResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_IMPORT_BYTES;
  if (options.format !== undefined && !(importFormats as readonly string[]).includes(options.format)) {
    throw new AppError('validation_failed', `Unknown import format "${String(options.format)}"; expected one of ${importFormats.join(', ')}`);
  }
  const reader = await SourceReader.open(source, maxBytes);
  try {
    const format = options.format ?? detectFormat(reader.fileName, await reader.head());
    if (!format) throw unknownFormatError(reader.fileName);
    for await (const draft of importers[format](reader)) {
      yield isFailure(draft) ? failureOf(draft, reader.fileName) : buildRecord(draft, reader.fileName, format);
    }
  } finally {
    await reader.close();
  }
}


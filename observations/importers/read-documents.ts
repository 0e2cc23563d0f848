import { splitJsonArray } from './json-array-stream.ts';
import type { SourceReader } from './read-source.ts';

/** One JSON document of a source: its index and exact text, or why it could not be read. */
export type SourceDocument = { index: number; raw: string } | { index: number; problem: string };

/** True for a file name that says one JSON document per line. */
export function isJsonLinesName(fileName: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(fileName);
}

/**
 * The documents of an API-payload source: one per line for `.jsonl`, else the whole file as one document,
 * or, when the file is a JSON array whose elements are documents (not the messages of one conversation),
 * one per element. `isConversationArray` tells the two kinds of array apart from the first element.
 */
export async function* readDocuments(
  reader: SourceReader,
  what: string,
  isConversationArray: (first: unknown) => boolean,
): AsyncGenerator<SourceDocument> {
  if (isJsonLinesName(reader.fileName)) {
    for await (const line of reader.lines()) {
      if ('tooLong' in line) yield { index: line.number - 1, problem: `Line ${line.number} is too long to import` };
      else if (line.text.trim() !== '') yield { index: line.number - 1, raw: line.text };
    }
    return;
  }
  const buffer = await reader.buffer(what);
  const text = withoutBom(buffer.toString('utf8'));
  if (!text.trimStart().startsWith('[')) {
    yield { index: 0, raw: text };
    return;
  }
  let first: unknown;
  try {
    const parsed: unknown = JSON.parse(text);
    first = Array.isArray(parsed) ? parsed[0] : undefined;
  } catch {
    // A broken array is split below, so the readable elements still import.
  }
  if (first !== undefined && isConversationArray(first)) {
    yield { index: 0, raw: text };
    return;
  }
  yield* splitJsonArray([buffer], reader.fileName);
}

export function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

import { AppError } from '../../core/errors.ts';
import { MAX_RECORD_BYTES } from './import-types.ts';

/** One element of a top-level JSON array: its exact source text, or why it could not be read whole. */
export type ArrayElement = { index: number; raw: string } | { index: number; problem: string };

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Split a top-level JSON array into its elements as they stream in, yielding each element's exact text
 * (so the raw record kept beside a transcript is the source's own bytes, and its sha256 is stable).
 * Memory holds one element at a time: a 1 GB `conversations.json` is never loaded whole. The splitter only
 * tracks strings and nesting; each element is then parsed on its own, so a broken element fails alone.
 * A source that ends inside an element (truncated JSON) yields a `problem` for that element.
 */
export async function* splitJsonArray(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, fileName: string): AsyncGenerator<ArrayElement> {
  let phase: 'start' | 'between' | 'element' | 'end' = 'start';
  let index = 0;
  let kind: 'container' | 'string' | 'scalar' = 'container';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: Buffer[] = [];
  let elementBytes = 0;
  let oversize = false;
  let sawAnything = false;
  let trailingReported = false;

  for await (const input of chunks) {
    const chunk = Buffer.isBuffer(input) ? input : Buffer.from(input);
    let i = 0;
    let elementStart = -1;
    if (phase === 'element') elementStart = 0;
    // Where the next backslash in this chunk is (-2: not looked for yet; -1: none): strings are most of an export's
    // bytes, and jumping between quotes and backslashes with indexOf beats looking at every byte.
    let nextBackslash = -2;
    while (i < chunk.length) {
      if (phase === 'element' && inString && !escaped) {
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        const quote = chunk.indexOf(QUOTE, i);
        const stop = Math.min(quote === -1 ? chunk.length : quote, nextBackslash === -1 ? chunk.length : nextBackslash);
        if (stop >= chunk.length) {
          i = chunk.length;
          break;
        }
        i = stop;
      }
      const c = chunk[i]!;
      if (phase === 'start') {
        if (WHITESPACE.has(c) || (!sawAnything && (c === 0xef || c === 0xbb || c === 0xbf))) {
          i++;
          continue;
        }
        sawAnything = true;
        if (c !== 0x5b) {
          throw new AppError('validation_failed', `${fileName} is not a JSON array of records: it starts with ${JSON.stringify(String.fromCharCode(c))}, not "["`);
        }
        phase = 'between';
        i++;
        continue;
      }
      if (phase === 'between') {
        if (WHITESPACE.has(c) || c === 0x2c) {
          i++;
          continue;
        }
        if (c === 0x5d) {
          phase = 'end';
          i++;
          continue;
        }
        phase = 'element';
        elementStart = i;
        parts = [];
        elementBytes = 0;
        oversize = false;
        depth = 0;
        inString = false;
        escaped = false;
        kind = c === 0x7b || c === 0x5b ? 'container' : c === QUOTE ? 'string' : 'scalar';
        if (kind === 'string') {
          inString = true;
          i++;
          continue;
        }
        if (kind === 'scalar') {
          i++;
          continue;
        }
      }
      if (phase === 'element') {
        let endAt = -1;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            inString = false;
            if (kind === 'string') endAt = i + 1;
          }
        } else if (kind === 'scalar') {
          if (WHITESPACE.has(c) || c === 0x2c || c === 0x5d) endAt = i;
        } else if (c === QUOTE) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) endAt = i + 1;
        }
        if (endAt === -1) {
          i++;
          continue;
        }
        keep(chunk.subarray(elementStart, endAt));
        yield finishElement();
        index++;
        phase = 'between';
        i = endAt;
        elementStart = -1;
        continue;
      }
      // phase === 'end': only whitespace may follow the array.
      if (!WHITESPACE.has(c) && !trailingReported) {
        trailingReported = true;
        yield { index, problem: 'Unexpected text after the closing "]" of the array was ignored' };
      }
      i++;
    }
    if (phase === 'element' && elementStart !== -1) keep(chunk.subarray(elementStart));
  }

  if (phase === 'start') throw new AppError('validation_failed', `${fileName} is empty: it holds no JSON array of records`);
  if (phase === 'element') {
    if (kind === 'scalar') yield finishElement();
    else yield { index, problem: `The file ends in the middle of record ${index + 1} (truncated JSON); the records before it were read` };
  } else if (phase === 'between') {
    yield { index, problem: `The file ends before the array's closing "]" (truncated JSON); the ${index} records before that point were read` };
  }

  function keep(slice: Buffer): void {
    if (oversize) return;
    elementBytes += slice.length;
    if (elementBytes > MAX_RECORD_BYTES) {
      oversize = true;
      parts = [];
      return;
    }
    parts.push(Buffer.from(slice));
  }

  function finishElement(): ArrayElement {
    if (oversize) return { index, problem: `Record ${index + 1} is larger than ${MAX_RECORD_BYTES / (1024 * 1024)} MiB and was skipped` };
    const raw = Buffer.concat(parts).toString('utf8');
    parts = [];
    return { index, raw };
  }
}

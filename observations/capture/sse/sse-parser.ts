/** One server-sent event: its `event:` name (`message` when none was given) and its `data:` lines joined by "\n". */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental parser of a `text/event-stream` (the WHATWG EventSource rules): feed it chunks as they arrive,
 * split anywhere (inside a line, a multi-byte character or a CRLF pair), and it returns the events each chunk
 * completed. Events end on a blank line; `:` lines are comments; a lone `data` line with no blank line after it
 * is only returned by `end()`, since a stream cut short may still hold what arrived.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private skipLeadingLf = false;
  private eventName = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Parses one chunk (bytes or already-decoded text) and returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.consume(text, false);
  }

  /** Ends the stream: flushes a final event that had no blank line after it (as a cut stream may leave). */
  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode(), true);
    if (this.pending !== '') this.line(this.pending, events);
    this.pending = '';
    this.dispatch(events);
    return events;
  }

  private consume(text: string, final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    if (this.skipLeadingLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) start = 1;
      this.skipLeadingLf = false;
    }
    const buffer = this.pending + text.slice(start);
    let from = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(buffer.slice(from, i), events);
      if (c === 13) {
        if (i + 1 < buffer.length) {
          if (buffer.charCodeAt(i + 1) === 10) i++;
        } else if (!final) {
          // A CR at the end of a chunk: its LF may open the next one.
          this.skipLeadingLf = true;
        }
      }
      from = i + 1;
    }
    this.pending = buffer.slice(from);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.dataLines.push(value);
    } else if (field === 'event') {
      this.eventName = value;
    } else if (field === 'id' && !value.includes('\0')) {
      this.lastId = value;
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.dataLines.length > 0) {
      events.push({ event: this.eventName || 'message', data: this.dataLines.join('\n'), ...(this.lastId !== undefined ? { id: this.lastId } : {}) });
    }
    this.eventName = '';
    this.dataLines = [];
  }
}

/** Every event of a whole stream's text (what the proxy stored), including a last one cut short. */
export function parseSse(text: string): SseEvent[] {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()];
}

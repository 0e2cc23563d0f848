/**
 * Blanking out the parts of a reply that rules must not read as prose (code, URLs, quotations, tables, maths),
 * while keeping every other character where it was: masked characters become spaces (line breaks stay), so an
 * offset in the masked text is the same offset in the original and spans need no mapping back.
 */

export interface MaskOptions {
  /** Fenced code blocks (``` or ~~~) and inline `code`. */
  code?: boolean;
  /** Only fenced blocks that are closed (an unclosed fence is usually cut-off output, worth reading). */
  closedFencesOnly?: boolean;
  /** http(s)/ftp/www addresses and e-mail addresses. */
  urls?: boolean;
  /** Text in double quotes (straight, curly, guillemets, „…“, 「…」), single curly quotes, and > blockquote lines. */
  quotes?: boolean;
  /** Markdown table rows (lines that start with `|`). */
  tables?: boolean;
  /** Short *emphasised* or _emphasised_ phrases (up to 8 words): often a term or a foreign phrase. */
  emphasis?: boolean;
  /** LaTeX maths: $…$, $$…$$, \(…\), \[…\]. */
  maths?: boolean;
}

export interface FenceRange {
  /** Offset of the opening fence line. */
  start: number;
  /** Offset just past the closing fence line, or the text's length when the fence is never closed. */
  end: number;
  closed: boolean;
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;

/** The fenced code blocks of a Markdown text, in order; a fence left open runs to the end. */
export function codeFences(text: string): FenceRange[] {
  const fences: FenceRange[] = [];
  let open: { start: number; char: string; length: number } | null = null;
  let offset = 0;
  for (const line of text.split('\n')) {
    const lineEnd = offset + line.length;
    const m = FENCE_OPEN.exec(line);
    if (m) {
      const marker = m[1]!;
      if (!open) {
        // A backtick fence's info string cannot contain backticks (CommonMark); such a line is inline code.
        if (!(marker[0] === '`' && line.slice(m[0].length).includes('`'))) open = { start: offset, char: marker[0]!, length: marker.length };
      } else if (marker[0] === open.char && marker.length >= open.length && line.slice(m[0].length).trim() === '') {
        fences.push({ start: open.start, end: Math.min(text.length, lineEnd + 1), closed: true });
        open = null;
      }
    }
    offset = lineEnd + 1;
  }
  if (open) fences.push({ start: open.start, end: text.length, closed: false });
  return fences;
}

const INLINE_CODE = /(?<!`)(`+)(?:[^`\n]|[^`\n][^\n]*?[^`\n])\1(?!`)/g;
const URLS = /\b(?:https?|ftp):\/\/[^\s<>"'`]+|\bwww\.[^\s<>"'`]+|[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const QUOTES = [
  /"[^"\n]*"/g,
  /“[^”]{0,2000}?”/g,
  /«[^»]{0,2000}?»/g,
  /„[^“”]{0,2000}?[“”]/g,
  /「[^」]{0,2000}?」/g,
  /『[^』]{0,2000}?』/g,
  /(?<![\p{L}\p{N}])‘[^’\n]{0,300}?’(?![\p{L}\p{N}])/gu,
];
const BLOCKQUOTE_LINE = /^ {0,3}>.*$/gm;
const TABLE_LINE = /^ {0,3}\|.*$/gm;
const EMPHASIS = /(?<![*\w])(\*{1,2}|_{1,2})(?![\s*_])((?:[^\s*_]+\s+){0,7}[^\s*_]+)\1(?![*\w])/gu;
const MATHS = [/\$\$[\s\S]{1,5000}?\$\$/g, /\\\[[\s\S]{1,5000}?\\\]/g, /\\\([^\n]{1,1000}?\\\)/g, /(?<![\\$\w])\$(?!\s)[^$\n]{1,300}?(?<!\s)\$(?![\w$])/g];

/** Returns `text` with the chosen kinds of content blanked to spaces (line breaks kept); offsets are unchanged. */
export function maskText(text: string, options: MaskOptions): string {
  const masked = new Uint8Array(text.length);
  const mark = (start: number, end: number) => masked.fill(1, start, end);
  const markAll = (re: RegExp) => {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) mark(m.index, m.index + m[0].length);
  };
  if (options.code) {
    for (const fence of codeFences(text)) if (fence.closed || !options.closedFencesOnly) mark(fence.start, fence.end);
    for (const m of text.matchAll(INLINE_CODE)) if (!masked[m.index]) mark(m.index, m.index + m[0].length);
  }
  if (options.urls) markAll(URLS);
  if (options.maths) for (const re of MATHS) markAll(re);
  if (options.quotes) {
    for (const re of QUOTES) markAll(re);
    markAll(BLOCKQUOTE_LINE);
  }
  if (options.tables) markAll(TABLE_LINE);
  if (options.emphasis) markAll(EMPHASIS);
  let out = '';
  let runStart = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && !masked[i]) continue;
    out += text.slice(runStart, i);
    if (i === text.length) break;
    out += text[i] === '\n' ? '\n' : ' ';
    runStart = i + 1;
  }
  return out;
}

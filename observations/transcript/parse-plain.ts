import type { MessageRole, TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage, FormatParseResult } from './parse-transcript.ts';

/** Role labels a person is likely to paste, lower-cased, with the role each stands for. */
const ROLE_BY_LABEL: Record<string, MessageRole> = {
  system: 'system',
  developer: 'developer',
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  ai: 'assistant',
  model: 'assistant',
  claude: 'assistant',
  chatgpt: 'assistant',
  gpt: 'assistant',
  tool: 'tool',
};

const LABEL_WORDS = Object.keys(ROLE_BY_LABEL).join('|');

/** `User: hi`, `**User:** hi`, `**User**: hi`, `### User: hi`; the label must open the line. */
const COLON_LABEL = new RegExp(`^(?:#{1,6}[ \\t]*)?(\\*\\*|__)?(${LABEL_WORDS})(?:\\1)?[ \\t]*:(?:\\1)?`, 'i');

/** `### Assistant` alone on its line, as Markdown exports write it. */
const HEADING_LABEL = new RegExp(`^#{1,6}[ \\t]+(\\*\\*|__)?(${LABEL_WORDS})(?:\\1)?[ \\t]*$`, 'i');

/** Shown when no line opens with a role label; shared with the dispatcher, which gives it for unlabelled text. */
export const NO_ROLE_LABEL_MESSAGE =
  'No "User:" or "Assistant:" line found: start each turn with a role label such as "User:" on its own line or followed by text';

type Turn = { role: MessageRole; lines: string[] };
type LabelMatch = { role: MessageRole; rest: string };

/** Whether any line opens with a role label, i.e. the text can be read as a plain transcript. */
export function hasPlainRoleLabel(text: string): boolean {
  return splitLines(text).some((line) => COLON_LABEL.test(line) || HEADING_LABEL.test(line));
}

/**
 * Read a transcript written as text, each turn opened by a role label at the start of a line
 * (`User:`, `Human:`, `Assistant:`, `AI:`, `Claude:`, …). A label later in a line is ordinary text.
 */
export function parsePlainTranscript(text: string): FormatParseResult {
  const lines = splitLines(text);
  // Markdown headings like "## Model" are common inside answers, so they count as labels only when no "Role:" label exists.
  const headingsAreLabels = !lines.some((line) => COLON_LABEL.test(line));
  const preamble: string[] = [];
  const turns: Turn[] = [];
  for (const line of lines) {
    const label = matchLabel(line, headingsAreLabels);
    if (label) turns.push({ role: label.role, lines: [label.rest] });
    else (turns.at(-1)?.lines ?? preamble).push(line);
  }
  if (turns.length === 0) return { ok: false, error: { message: NO_ROLE_LABEL_MESSAGE } };

  const warnings: string[] = [];
  const messages: DraftMessage[] = [];
  const preambleText = joinTurnText(preamble);
  if (preambleText !== '') {
    const lastLine = preamble.length - countTrailingBlank(preamble);
    const which = lastLine > 1 ? `Lines 1–${lastLine} come` : 'Line 1 comes';
    warnings.push(`${which} before the first role label, so ${lastLine > 1 ? 'they were' : 'it was'} read as a user message`);
    messages.push({ role: 'user', parts: [{ type: 'text', text: preambleText }] });
  }
  for (const turn of turns) messages.push({ role: turn.role, parts: partsFor(turn.role, joinTurnText(turn.lines)) });
  return { ok: true, messages, warnings };
}

function matchLabel(line: string, headingsAreLabels: boolean): LabelMatch | null {
  const colon = COLON_LABEL.exec(line);
  if (colon) return { role: roleFor(colon[2]), rest: line.slice(colon[0].length).trimStart() };
  const heading = headingsAreLabels ? HEADING_LABEL.exec(line) : null;
  if (heading) return { role: roleFor(heading[2]), rest: '' };
  return null;
}

function roleFor(label: string | undefined): MessageRole {
  return ROLE_BY_LABEL[(label ?? '').toLowerCase()] ?? 'user';
}

function partsFor(role: MessageRole, text: string): TranscriptPart[] {
  if (text === '') return [];
  return role === 'tool' ? [{ type: 'tool_result', text }] : [{ type: 'text', text }];
}

/** Drop blank lines around the turn and trailing spaces at its end; inner blank lines and indentation stay. */
function joinTurnText(lines: string[]): string {
  const start = lines.findIndex((line) => line.trim() !== '');
  if (start === -1) return '';
  const end = lines.length - countTrailingBlank(lines);
  return lines.slice(start, end).join('\n').trimEnd();
}

function countTrailingBlank(lines: string[]): number {
  let count = 0;
  while (count < lines.length && lines[lines.length - 1 - count]!.trim() === '') count++;
  return count;
}

function splitLines(text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n');
}

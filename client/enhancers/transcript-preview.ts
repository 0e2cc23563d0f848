import { parseTranscript, type TranscriptFormatChoice } from '../../observations/transcript/parse-transcript.ts';
import type { Transcript } from '../../observations/transcript.schema.ts';
import { enhance } from '../registry.ts';

const FORMAT_LABELS: Record<string, string> = {
  plain: 'Plain text',
  'openai-chat': 'OpenAI Chat Completions JSON',
  'anthropic-messages': 'Anthropic Messages JSON',
  menagerie: 'Menagerie transcript JSON',
};
const PART_LABELS: Record<string, string> = {
  reasoning: 'reasoning',
  tool_call: 'tool call',
  tool_result: 'tool result',
  refusal: 'refusal',
  image: 'image',
  other: 'other content',
};
const DEBOUNCE_MS = 250;
const MAX_PREVIEW_CHARS = 400;

/**
 * Live preview of a pasted transcript, read in the browser by the same parser the server uses: the detected
 * format, the number of messages, any warnings or the parse error, and each message in brief. Nothing is sent.
 * `data-source` and `data-format-source` name the textarea and the format select.
 */
enhance('transcript-preview', (panel) => {
  const source = document.getElementById(panel.dataset.source ?? '') as HTMLTextAreaElement | null;
  const formatSelect = document.getElementById(panel.dataset.formatSource ?? '') as HTMLSelectElement | null;
  if (!source) return;
  let timer: number | undefined;
  let lastKey = '';

  const update = () => {
    const text = source.value;
    const format = (formatSelect?.value || 'auto') as TranscriptFormatChoice;
    const key = `${format}\u0000${text}`;
    if (key === lastKey) return;
    lastKey = key;
    if (text.trim() === '') {
      panel.replaceChildren(el('p', 'preview-idle muted', 'Paste a transcript to see how Menagerie reads it.'));
      return;
    }
    const result = parseTranscript(text, format);
    const box = el('div', 'preview-result live');
    if (!result.ok) {
      const p = el('p', 'preview-error');
      p.append(el('strong', '', 'The transcript cannot be read yet: '), result.error.message);
      box.append(p);
    } else {
      const count = result.transcript.messages.length;
      const summary = el('p', 'preview-summary');
      summary.append(el('span', 'badge', FORMAT_LABELS[result.transcript.format] ?? result.transcript.format), ` ${count} message${count === 1 ? '' : 's'} read.`);
      box.append(summary);
      if (result.warnings.length > 0) {
        const list = el('ul', 'preview-warnings');
        for (const w of result.warnings) list.append(el('li', '', w));
        box.append(list);
      }
      box.append(briefMessages(result.transcript));
    }
    panel.replaceChildren(box);
  };

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, DEBOUNCE_MS);
  };
  source.addEventListener('input', schedule);
  source.addEventListener('paste', () => window.setTimeout(update, 0));
  formatSelect?.addEventListener('change', update);
  // A server-rendered preview (the no-JS "Preview" button) stays until the person types.
  if (!panel.querySelector('.preview-result')) update();
  else lastKey = `${formatSelect?.value || 'auto'}\u0000${source.value}`;
});

function briefMessages(transcript: Transcript): HTMLElement {
  const list = el('ol', 'preview-messages');
  for (const message of transcript.messages) {
    const item = el('li', 'preview-message');
    item.dataset.role = message.role;
    item.append(el('span', 'role', message.name ? `${message.role} · ${message.name}` : message.role));
    const texts: string[] = [];
    const extras: string[] = [];
    for (const part of message.parts) {
      if (part.type === 'text') texts.push(part.text);
      else extras.push(part.type === 'tool_call' ? `tool call ${part.name}` : PART_LABELS[part.type] ?? part.type);
    }
    const joined = texts.join('\n');
    item.append(el('span', 'preview-text', joined.length > MAX_PREVIEW_CHARS ? `${joined.slice(0, MAX_PREVIEW_CHARS)}…` : joined));
    if (extras.length) item.append(el('span', 'preview-extras muted', ` + ${extras.join(', ')}`));
    list.append(item);
  }
  return list;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

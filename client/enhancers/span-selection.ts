/**
 * Reading a text selection as a coding span: the message and part it lies in and its character offsets within
 * that part's text, counted in UTF-16 code units (JavaScript string indices) exactly as the server counts them.
 * Offsets are measured with DOM Ranges, so the `<mark>` elements of existing codes inside the text do not matter.
 */
export interface SelectedSpan {
  part: HTMLElement;
  messageId: string;
  partIndex: number;
  start: number;
  end: number;
  quote: string;
  rect: DOMRect;
}

export type SelectionReading = { span: SelectedSpan } | { problem: string } | null;

const PART_SELECTOR = '.part-text[data-message-id][data-part-index]';

function partOf(node: Node): HTMLElement | null {
  const element = node.nodeType === Node.ELEMENT_NODE ? (node as Element) : node.parentElement;
  return (element?.closest(PART_SELECTOR) as HTMLElement | null) ?? null;
}

/** Characters of `root`'s text before the boundary point (node, offset). */
export function offsetWithin(root: HTMLElement, node: Node, offset: number): number {
  const range = document.createRange();
  range.selectNodeContents(root);
  range.setEnd(node, offset);
  return range.toString().length;
}

/**
 * The current selection as a span inside `container`, null when nothing (or nothing there) is selected, or a
 * problem to show when it crosses from one part into another. Surrounding whitespace is left out of the span.
 */
export function readSelection(container: HTMLElement, selection: Selection | null = window.getSelection()): SelectionReading {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  const startPart = partOf(range.startContainer);
  const endPart = partOf(range.endContainer);
  const part = startPart ?? endPart;
  if (!part || !container.contains(part)) return null;
  const text = part.textContent ?? '';
  let start = startPart === part ? offsetWithin(part, range.startContainer, range.startOffset) : 0;
  let end = text.length;
  if (endPart === part) end = offsetWithin(part, range.endContainer, range.endOffset);
  else if (endPart && offsetWithin(endPart, range.endContainer, range.endOffset) > 0) {
    return { problem: 'Select text inside one message part: a span cannot cross into the next part or message.' };
  }
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  if (end <= start) return null;
  const rect = range.getBoundingClientRect();
  return {
    span: {
      part,
      messageId: part.dataset.messageId ?? '',
      partIndex: Number(part.dataset.partIndex ?? '0'),
      start,
      end,
      quote: text.slice(start, end),
      rect: rect.width || rect.height ? rect : part.getBoundingClientRect(),
    },
  };
}

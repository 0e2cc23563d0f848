/**
 * Character offsets in an answer's element, counted in UTF-16 code units over its text only, as the server
 * counts them: the markers drawn inside the text hold no text, so they never shift an offset.
 */

/** Characters of `root`'s text before the boundary point (node, offset). */
export function offsetWithin(root: Node, node: Node, offset: number): number {
  const range = document.createRange();
  range.selectNodeContents(root);
  range.setEnd(node, offset);
  return range.toString().length;
}

/** The boundary point at a character offset of `root`'s text (clamped to its end). */
export function pointAt(root: Node, offset: number): { node: Node; offset: number } {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let remaining = offset;
  let last: Text | null = null;
  for (let node = walker.nextNode() as Text | null; node; node = walker.nextNode() as Text | null) {
    if (remaining <= node.data.length) return { node, offset: remaining };
    remaining -= node.data.length;
    last = node;
  }
  return last ? { node: last, offset: last.data.length } : { node: root, offset: root.childNodes.length };
}

/** A DOM range over characters `[start, end)` of `root`'s text. */
export function rangeOf(root: Node, start: number, end: number): Range {
  const range = document.createRange();
  const a = pointAt(root, start);
  const b = pointAt(root, end);
  range.setStart(a.node, a.offset);
  range.setEnd(b.node, b.offset);
  return range;
}

export const ANSWER_SELECTOR = '.live-answer-text[data-turn]';

function answerOf(node: Node): HTMLElement | null {
  const element = node.nodeType === Node.ELEMENT_NODE ? (node as Element) : node.parentElement;
  return (element?.closest(ANSWER_SELECTOR) as HTMLElement | null) ?? null;
}

export type SelectionReading = { span: { turn: number; start: number; end: number; quote: string } } | { problem: string } | null;

/**
 * The page's text selection as a span of one answer: null when nothing is selected (or not in an answer), a
 * problem when it crosses answers or lies in a prompt. Surrounding whitespace is left out.
 */
export function readAnswerSelection(container: HTMLElement, selection: Selection | null = window.getSelection()): SelectionReading {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.commonAncestorContainer)) return null;
  const startAnswer = answerOf(range.startContainer);
  const endAnswer = answerOf(range.endContainer);
  if (!startAnswer && !endAnswer) return { problem: 'Select text in one of the model\'s answers to code it (prompts are not coded).' };
  if (startAnswer !== endAnswer) return { problem: 'Select text inside one answer: a span cannot cross into another message.' };
  const answer = startAnswer!;
  const text = answer.textContent ?? '';
  let start = offsetWithin(answer, range.startContainer, range.startOffset);
  let end = offsetWithin(answer, range.endContainer, range.endOffset);
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  if (end <= start) return null;
  return { span: { turn: Number(answer.dataset.turn), start, end, quote: text.slice(start, end) } };
}

/** The selection's ends as offsets of `answer`, to put it back after the answer is redrawn. */
export function saveSelection(answer: HTMLElement): { anchor: number; focus: number } | null {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || !selection.anchorNode || !selection.focusNode) return null;
  if (!answer.contains(selection.anchorNode) || !answer.contains(selection.focusNode)) return null;
  return { anchor: offsetWithin(answer, selection.anchorNode, selection.anchorOffset), focus: offsetWithin(answer, selection.focusNode, selection.focusOffset) };
}

export function restoreSelection(answer: HTMLElement, saved: { anchor: number; focus: number }): void {
  const a = pointAt(answer, saved.anchor);
  const f = pointAt(answer, saved.focus);
  window.getSelection()?.setBaseAndExtent(a.node, a.offset, f.node, f.offset);
}

/** The answer position under a screen point, or null when it is not over an answer's text. */
export function positionAtPoint(x: number, y: number): { turn: number; offset: number } | null {
  const doc = document as Document & { caretPositionFromPoint?: (x: number, y: number) => { offsetNode: Node; offset: number } | null };
  let node: Node | null = null;
  let offset = 0;
  if (doc.caretPositionFromPoint) {
    const p = doc.caretPositionFromPoint(x, y);
    if (p) ({ offsetNode: node, offset } = p);
  } else if (document.caretRangeFromPoint) {
    const r = document.caretRangeFromPoint(x, y);
    if (r) ({ startContainer: node, startOffset: offset } = r);
  }
  if (!node) return null;
  const answer = answerOf(node);
  if (!answer) return null;
  return { turn: Number(answer.dataset.turn), offset: offsetWithin(answer, node, offset) };
}

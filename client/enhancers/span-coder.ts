import { enhance } from '../registry.ts';
import { readSelection, type SelectedSpan } from './span-selection.ts';

const QUOTE_MAX = 280;

/**
 * Coding by selection, on the transcript viewer (`data-enhance="span-coder"`, `data-coding-form` naming the
 * page's coding form). Selecting text inside one message part fills the form's span fields (message, part,
 * start, end) and opens the same form as a floating panel beside the selection, focused so a behaviour's hotkey
 * picks it (see coding-form.ts). Escape or Close puts the panel back in the sidebar; submitting is an ordinary
 * form post, so the server checks everything as it does without JavaScript.
 */
enhance('span-coder', (frame) => {
  const form = document.getElementById(frame.dataset.codingForm ?? '') as HTMLFormElement | null;
  if (!form) return;
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  const quote = form.querySelector<HTMLElement>('.selection-quote');
  const status = document.createElement('p');
  status.className = 'span-coder-status';
  status.setAttribute('role', 'status');
  frame.before(status);
  let returnFocusTo: HTMLElement | null = null;

  const open = (span: SelectedSpan) => {
    const message = field('messageId');
    if (message) message.value = span.messageId;
    const part = field('part');
    if (part) part.value = String(span.partIndex + 1);
    const start = field('start');
    if (start) start.value = String(span.start);
    const end = field('end');
    if (end) end.value = String(span.end);
    if (quote) {
      quote.textContent = `“${span.quote.length > QUOTE_MAX ? `${span.quote.slice(0, QUOTE_MAX)}…` : span.quote}” (characters ${span.start}–${span.end})`;
      quote.hidden = false;
    }
    status.textContent = '';
    returnFocusTo = span.part;
    form.classList.add('floating');
    const width = form.offsetWidth || 320;
    const left = Math.min(Math.max(span.rect.left + window.scrollX, window.scrollX + 8), window.scrollX + document.documentElement.clientWidth - width - 8);
    form.style.left = `${Math.max(left, 8)}px`;
    form.style.top = `${span.rect.bottom + window.scrollY + 8}px`;
    form.focus({ preventScroll: true });
    form.dispatchEvent(new CustomEvent('coding-panel:open', { detail: { messageId: span.messageId, start: span.start, end: span.end } }));
  };

  const close = () => {
    if (!form.classList.contains('floating')) return;
    form.classList.remove('floating');
    form.style.left = '';
    form.style.top = '';
    if (returnFocusTo) {
      returnFocusTo.tabIndex = -1;
      returnFocusTo.focus({ preventScroll: true });
    }
  };

  const onSelectionEnd = () => {
    const reading = readSelection(frame);
    if (!reading) return;
    if ('problem' in reading) {
      status.textContent = reading.problem;
      return;
    }
    open(reading.span);
  };

  // After the browser has updated the selection for this gesture.
  const later = () => window.setTimeout(onSelectionEnd, 0);
  frame.addEventListener('mouseup', later);
  frame.addEventListener('touchend', later);
  frame.addEventListener('keyup', (event) => {
    if (event.shiftKey || event.key === 'Shift') later();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && form.classList.contains('floating')) {
      event.preventDefault();
      close();
    }
  });
  form.querySelector('[data-close-panel]')?.addEventListener('click', close);
});

import { enhance } from '../registry.ts';

/**
 * The review queue from the keyboard: j/k or the arrow keys move between proposals, a accepts, r rejects (with
 * the reason typed beside it), e opens the edit form (type to filter behaviours, Enter saves and accepts, Escape
 * cancels), u takes back the last decision, d shows the definition, ? lists the shortcuts. Decisions go to the
 * JSON API with fetch (session cookie plus the CSRF header); focus moves to the next undecided proposal and the
 * count of waiting proposals follows. Without JavaScript the same forms post and come back to the queue.
 */
enhance('review-queue', (list) => {
  const items = [...list.querySelectorAll<HTMLElement>('.review-item')];
  if (items.length === 0) return;
  const csrf = document.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? '';
  const countEl = document.querySelector<HTMLElement>('[data-review-count]');
  const nounEl = document.querySelector<HTMLElement>('[data-review-noun]');
  const doneEl = document.querySelector<HTMLElement>('[data-review-done]');
  const help = document.getElementById('review-help');
  let waiting = Number(list.dataset.total ?? items.length);
  let current = 0;
  /** Decisions taken on this page, newest last, for "u". */
  const undoStack: HTMLElement[] = [];

  const idOf = (item: HTMLElement) => item.dataset.codingId ?? '';
  const isDecided = (item: HTMLElement) => !!item.dataset.state;
  const say = (item: HTMLElement, message: string) => {
    const status = item.querySelector<HTMLElement>('[data-decision]');
    if (status) status.textContent = message;
  };

  const setCount = (delta: number) => {
    waiting = Math.max(0, waiting + delta);
    if (countEl) countEl.textContent = waiting.toLocaleString('en');
    if (nounEl) nounEl.textContent = waiting === 1 ? 'proposal' : 'proposals';
    if (doneEl) doneEl.hidden = !items.every(isDecided);
  };

  const focusItem = (index: number) => {
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach((item, i) => item.classList.toggle('current', i === current));
    const item = items[current]!;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: 'nearest' });
  };

  const nextUndecided = () => {
    for (let step = 1; step <= items.length; step++) {
      const i = current + step;
      if (i < items.length && !isDecided(items[i]!)) return focusItem(i);
    }
    const firstOpen = items.findIndex((item) => !isDecided(item));
    focusItem(firstOpen >= 0 ? firstOpen : current);
  };

  async function send(method: string, path: string, body: unknown): Promise<{ ok: boolean; status: number; data: any }> {
    try {
      const response = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify(body ?? {}),
      });
      const data = await response.json().catch(() => ({}));
      return { ok: response.ok, status: response.status, data };
    } catch {
      return { ok: false, status: 0, data: { error: { message: 'The server could not be reached; nothing was changed. Try again.' } } };
    }
  }

  const markDecided = (item: HTMLElement, state: string, message: string) => {
    item.dataset.state = state;
    item.classList.add('decided', `decided-${state}`);
    item.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>('.review-actions button, .review-actions input, .review-edit button, .review-edit input, .review-edit select, .review-select input').forEach((c) => {
      c.disabled = true;
    });
    const details = item.querySelector<HTMLDetailsElement>('.review-edit');
    if (details) details.open = false;
    say(item, message);
  };

  const unmark = (item: HTMLElement) => {
    const state = item.dataset.state;
    delete item.dataset.state;
    item.classList.remove('decided', `decided-${state}`);
    item.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>('button, input, select').forEach((c) => {
      c.disabled = false;
    });
  };

  async function decide(item: HTMLElement, action: 'accept' | 'reject') {
    if (isDecided(item)) return say(item, 'Already decided: press u to undo your last decision.');
    if (item.dataset.busy) return;
    item.dataset.busy = '1';
    const reason = item.querySelector<HTMLInputElement>('input[name="reason"]')?.value.trim() ?? '';
    const result = await send('POST', `/api/v1/codings/${idOf(item)}/${action}`, action === 'reject' ? { reason } : {});
    delete item.dataset.busy;
    if (result.ok) {
      markDecided(item, action === 'accept' ? 'accepted' : 'rejected', action === 'accept' ? 'Accepted' : 'Rejected');
      undoStack.push(item);
      setCount(-1);
      nextUndecided();
    } else if (result.status === 409) {
      markDecided(item, 'taken', result.data?.error?.message ?? 'Decided meanwhile by someone else.');
      setCount(-1);
      nextUndecided();
    } else {
      say(item, result.data?.error?.message ?? `The decision failed (${result.status}).`);
    }
  }

  function openEdit(item: HTMLElement) {
    if (item.dataset.busy) return;
    if (isDecided(item)) return say(item, 'Already decided: press u to undo your last decision.');
    const details = item.querySelector<HTMLDetailsElement>('.review-edit');
    if (!details) return;
    details.open = true;
    (details.querySelector<HTMLInputElement>('.code-filter') ?? details.querySelector<HTMLSelectElement>('select'))?.focus();
  }

  function closeEdit(item: HTMLElement) {
    const details = item.querySelector<HTMLDetailsElement>('.review-edit');
    if (details) details.open = false;
    focusItem(items.indexOf(item));
  }

  async function undo() {
    const item = undoStack.pop();
    if (!item) return say(items[current]!, 'Nothing to undo on this page.');
    const result = await send('POST', `/api/v1/codings/${idOf(item)}/reopen`, {});
    if (!result.ok) {
      say(item, result.data?.error?.message ?? `Undo failed (${result.status}).`);
      return focusItem(items.indexOf(item));
    }
    unmark(item);
    // After an edit the title showed the new code: the restored proposal has the proposed one again.
    const title = item.querySelector('.review-title code');
    if (title && item.dataset.proposedCode) title.textContent = item.dataset.proposedCode;
    say(item, 'Decision undone: back in the queue.');
    setCount(1);
    focusItem(items.indexOf(item));
  }

  for (const item of items) {
    item.addEventListener('focusin', () => {
      const i = items.indexOf(item);
      if (i !== current) {
        current = i;
        items.forEach((other, j) => other.classList.toggle('current', j === i));
      }
    });

    // The buttons decide with fetch too (the reason field's Enter included), so the page stays where it is.
    for (const action of ['accept', 'reject'] as const) {
      item.querySelector<HTMLFormElement>(`form[data-review-action="${action}"]`)?.addEventListener('submit', (event) => {
        event.preventDefault();
        void decide(item, action);
      });
    }

    const form = item.querySelector<HTMLFormElement>('form[data-review-action="edit"]');
    const select = form?.querySelector<HTMLSelectElement>('select[name="code"]');
    const filter = form?.querySelector<HTMLInputElement>('.code-filter');
    if (!form || !select) continue;
    const options = [...select.options];
    const firstVisible = () => options.find((o) => !o.hidden);
    filter?.addEventListener('input', () => {
      const term = filter.value.trim().toLowerCase();
      for (const option of options) option.hidden = !!term && !option.value.toLowerCase().includes(term) && !(option.dataset.name ?? '').toLowerCase().includes(term);
      const match = firstVisible();
      if (term && match) select.value = match.value;
    });
    filter?.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        const match = firstVisible();
        if (!match) return say(item, 'No behaviour matches; change the filter.');
        select.value = match.value;
        form.requestSubmit();
      } else if (event.key === 'ArrowDown') {
        event.preventDefault();
        select.focus();
      }
    });
    select.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        closeEdit(item);
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (isDecided(item) || item.dataset.busy) return;
      const data = new FormData(form);
      const body: Record<string, unknown> = { code: String(data.get('code') ?? '') };
      const start = String(data.get('start') ?? '');
      const end = String(data.get('end') ?? '');
      if (data.get('messageId') && (start !== String(data.get('origStart')) || end !== String(data.get('origEnd')))) {
        body.span = { messageId: String(data.get('messageId')), partIndex: Number(data.get('partIndex')), start: Number(start), end: Number(end) };
      }
      form.querySelectorAll<HTMLElement>('.field-error').forEach((p) => (p.textContent = ''));
      item.dataset.busy = '1';
      const result = await send('PATCH', `/api/v1/codings/${idOf(item)}`, body);
      delete item.dataset.busy;
      if (result.ok) {
        const title = item.querySelector('.review-title code');
        if (title) {
          item.dataset.proposedCode = title.textContent ?? '';
          title.textContent = result.data.behaviour.code;
        }
        markDecided(item, 'edited', `Edited and accepted as ${result.data.behaviour.code}`);
        undoStack.push(item);
        setCount(-1);
        nextUndecided();
      } else if (result.status === 409) {
        markDecided(item, 'taken', result.data?.error?.message ?? 'Decided meanwhile by someone else.');
        setCount(-1);
        nextUndecided();
      } else {
        const fields: Record<string, string> = result.data?.error?.details?.fields ?? {};
        const id = idOf(item);
        const put = (suffix: string, message: string | undefined) => {
          const p = document.getElementById(`edit-${suffix}-${id}-error`);
          if (p && message) p.textContent = message;
        };
        put('code', fields.code);
        put('start', fields['span.start']);
        put('end', fields['span.end'] ?? fields['span.partIndex']);
        say(item, result.data?.error?.message ?? `The edit failed (${result.status}).`);
      }
    });
  }

  const toggleHelp = (show = help?.hidden) => {
    if (!help) return;
    help.hidden = !show;
    if (show) help.focus();
    else focusItem(current);
  };
  help?.querySelector('[data-close-help]')?.addEventListener('click', () => toggleHelp(false));

  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement;
    if (target.closest('input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable="true"]')) return;
    if (event.key === 'Escape' && help && !help.hidden) {
      event.preventDefault();
      return toggleHelp(false);
    }
    const item = items[current]!;
    switch (event.key) {
      case 'j':
      case 'ArrowDown':
        event.preventDefault();
        return focusItem(current + 1);
      case 'k':
      case 'ArrowUp':
        event.preventDefault();
        return focusItem(current - 1);
      case 'a':
        event.preventDefault();
        return void decide(item, 'accept');
      case 'r':
        event.preventDefault();
        return void decide(item, 'reject');
      case 'e':
        event.preventDefault();
        return openEdit(item);
      case 'u':
        event.preventDefault();
        return void undo();
      case 'd': {
        event.preventDefault();
        const definition = item.querySelector<HTMLDetailsElement>('.behaviour-definition');
        if (definition) definition.open = !definition.open;
        return;
      }
      case '?':
        event.preventDefault();
        return toggleHelp();
    }
  });

  list.classList.add('keyboard-ready');
  focusItem(0);
});

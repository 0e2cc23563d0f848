import { enhance } from '../registry.ts';

const DEBOUNCE_MS = 120;
let counter = 0;

interface Suggestion { tag: string; count: number }

/**
 * Autocomplete for comma-separated tag fields: suggests tags already in use that start with what is being typed
 * after the last comma (`GET /api/v1/tags/suggest`), most used first. An ARIA combobox: ArrowDown/ArrowUp move
 * through the suggestions, Enter or Tab takes one (the field keeps the earlier tags and gets ", " to go on),
 * Escape closes the list. Without JavaScript the field is a plain text field.
 */
enhance('tag-autocomplete', (input) => {
  if (!(input instanceof HTMLInputElement)) return;
  const listId = `tag-suggestions-${++counter}`;
  const list = document.createElement('ul');
  list.id = listId;
  list.className = 'tag-suggestions';
  list.setAttribute('role', 'listbox');
  list.hidden = true;
  input.insertAdjacentElement('afterend', list);
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', listId);
  input.parentElement?.classList.add('has-suggestions');

  let items: Suggestion[] = [];
  let active = -1;
  let timer: number | undefined;
  let inFlight: AbortController | undefined;

  const segments = () => {
    const value = input.value;
    const cut = value.lastIndexOf(',');
    return { before: cut === -1 ? '' : value.slice(0, cut + 1), current: (cut === -1 ? value : value.slice(cut + 1)).trim() };
  };

  const close = () => {
    items = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };

  const show = () => {
    list.replaceChildren();
    if (items.length === 0) return close();
    items.forEach((item, i) => {
      const li = document.createElement('li');
      li.id = `${listId}-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === active));
      li.textContent = item.tag;
      const count = document.createElement('span');
      count.className = 'muted';
      count.textContent = ` (${item.count})`;
      li.append(count);
      li.addEventListener('mousedown', (event) => {
        event.preventDefault(); // keep focus in the field
        take(i);
      });
      list.append(li);
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (active >= 0) input.setAttribute('aria-activedescendant', `${listId}-${active}`);
    else input.removeAttribute('aria-activedescendant');
  };

  const take = (index: number) => {
    const item = items[index];
    if (!item) return;
    const { before } = segments();
    input.value = `${before ? `${before.trimEnd()} ` : ''}${item.tag}, `;
    close();
    input.focus();
  };

  const fetchSuggestions = async () => {
    const { before, current } = segments();
    inFlight?.abort();
    if (current === '') return close();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const response = await fetch(`/api/v1/tags/suggest?prefix=${encodeURIComponent(current)}&limit=8`, {
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
        signal: controller.signal,
      });
      if (!response.ok) return close();
      const body = (await response.json()) as { data: Suggestion[] };
      if (controller !== inFlight) return;
      const already = new Set(before.split(',').map((t) => t.trim().toLowerCase()));
      items = body.data.filter((s) => !already.has(s.tag) && s.tag !== current.toLowerCase());
      active = -1;
      show();
    } catch {
      // Aborted by newer typing, or offline: the field still takes any tag.
    }
  };

  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void fetchSuggestions(), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (list.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      // -1 is the field itself: moving past either end returns to what was typed.
      if (event.key === 'ArrowDown') active = active + 1 >= items.length ? -1 : active + 1;
      else active = active - 1 < -1 ? items.length - 1 : active - 1;
      show();
    } else if ((event.key === 'Enter' || event.key === 'Tab') && active >= 0) {
      event.preventDefault(); // take the suggestion instead of submitting the form
      take(active);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener('blur', () => window.setTimeout(close, 100));
});

/** Bulk selection on the observation list: "select all on this page" and a live count of the selected. */
enhance('bulk-select', (form) => {
  const boxes = () => Array.from(document.querySelectorAll<HTMLInputElement>(`input.select-item[form="${form.id}"]`));
  const all = form.querySelector<HTMLInputElement>('[data-select-all]');
  const count = form.querySelector<HTMLElement>('[data-selected-count]');
  const update = () => {
    const list = boxes();
    const n = list.filter((b) => b.checked).length;
    if (count) count.textContent = String(n);
    if (all) {
      all.checked = n > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
    }
  };
  all?.addEventListener('change', () => {
    for (const box of boxes()) box.checked = all.checked;
    update();
  });
  for (const box of boxes()) box.addEventListener('change', update);
  update();
});

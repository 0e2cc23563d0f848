import { enhance } from '../registry.ts';

/**
 * The coding form, better with JavaScript: a filter box narrows the behaviour list by code or name (Enter picks
 * the first match), a behaviour's hotkey picks it while the panel itself has focus, only the modifiers the chosen
 * behaviour takes are shown, and Ctrl+Enter (or Cmd+Enter) submits from anywhere in the form.
 */
enhance('coding-form', (element) => {
  const form = element as HTMLFormElement;
  const select = form.elements.namedItem('code') as HTMLSelectElement | null;
  if (!select) return;
  const filter = form.querySelector<HTMLInputElement>('.code-filter');
  const rationale = form.elements.namedItem('rationale') as HTMLTextAreaElement | null;
  const options = [...select.options].filter((o) => o.value !== '');
  form.tabIndex = -1;
  form.setAttribute('aria-label', 'Coding panel');

  const choose = (option: HTMLOptionElement) => {
    select.value = option.value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    (rationale ?? select).focus();
  };

  const showModifiers = () => {
    const chosen = select.selectedOptions[0];
    const sets = chosen?.value ? (chosen.dataset.modifierSets ?? '').split(' ').filter(Boolean) : null;
    form.querySelectorAll<HTMLElement>('[data-modifier-set]').forEach((wrapper) => {
      const applies = !sets || sets.includes(wrapper.dataset.modifierSet ?? '');
      wrapper.hidden = !applies;
      wrapper.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select').forEach((input) => {
        input.disabled = !applies;
      });
    });
  };
  select.addEventListener('change', showModifiers);
  showModifiers();

  filter?.addEventListener('input', () => {
    const term = filter.value.trim().toLowerCase();
    let first: HTMLOptionElement | undefined;
    for (const option of options) {
      const match = !term || option.value.toLowerCase().includes(term) || (option.dataset.name ?? '').toLowerCase().includes(term);
      option.hidden = !match;
      if (match && !first) first = option;
    }
    select.querySelectorAll('optgroup').forEach((group) => {
      group.hidden = [...group.querySelectorAll('option')].every((o) => o.hidden);
    });
    if (term && first && select.selectedOptions[0]?.hidden !== false) {
      select.value = first.value;
      showModifiers();
    }
  });
  filter?.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      const first = options.find((o) => !o.hidden);
      if (first) choose(first);
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      select.focus();
    }
  });

  form.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    const target = event.target as HTMLElement;
    const typingTarget = target.matches('input:not([type=checkbox]):not([type=radio]), textarea, select');
    if (typingTarget || event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    const option = options.find((o) => o.dataset.hotkey === event.key.toLowerCase());
    if (!option) return;
    event.preventDefault();
    choose(option);
  });
});

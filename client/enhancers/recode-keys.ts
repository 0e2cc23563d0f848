import { enhance } from '../registry.ts';

/**
 * The recode queue by keyboard: digits choose a candidate of the first item still waiting (1, 2, … as the
 * buttons show; 0 for "none of these"). Typing in the note field is left alone.
 */
enhance('recode-keys', (list) => {
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[0-9]$/.test(event.key)) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable)) return;
    const button = list.querySelector<HTMLButtonElement>(`.recode-form button[data-key="${event.key}"]`);
    if (!button) return;
    event.preventDefault();
    button.click();
  });
  // Tells people (and tests) that the keys work on this page.
  list.classList.add('keyboard-ready');
});

import { enhance } from '../registry.ts';

/**
 * `<input type="file" data-enhance="ethogram-file" data-target="textarea-id">`: reads the chosen JSON file into
 * the import form's textarea, so a document can be picked from disk instead of pasted. Without the bundle the
 * input stays hidden (`.js-only`) and pasting works as before.
 */
enhance('ethogram-file', (el) => {
  const input = el as HTMLInputElement;
  const target = document.getElementById(input.dataset.target ?? '') as HTMLTextAreaElement | null;
  if (!target) return;
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    target.value = await file.text();
    target.focus();
  });
});

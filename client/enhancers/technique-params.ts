import { enhance } from '../registry.ts';

/**
 * `<form data-enhance="technique-params" data-templates="{technique: paramsJsonText}">`: choosing another technique
 * puts that technique's starting parameters in the parameters field, unless the person has edited the field (then
 * their text stays, and a note says how to get the template). Without JS the field keeps what the page rendered.
 */
enhance('technique-params', (form) => {
  const select = form.querySelector<HTMLSelectElement>('select[name="technique"]');
  const field = form.querySelector<HTMLTextAreaElement>('textarea[name="params"]');
  if (!select || !field) return;
  let templates: Record<string, string>;
  try {
    templates = JSON.parse(form.dataset.templates ?? '{}') as Record<string, string>;
  } catch {
    return;
  }
  let lastTemplate = field.value;
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.setAttribute('role', 'status');
  field.insertAdjacentElement('afterend', hint);
  select.addEventListener('change', () => {
    const template = templates[select.value];
    if (template === undefined) return;
    if (field.value.trim() === lastTemplate.trim()) {
      field.value = template;
      lastTemplate = template;
      hint.textContent = `Starting parameters for ${select.value}.`;
    } else {
      hint.textContent = `You edited the parameters, so they were kept. Clear the field and choose ${select.value} again for its starting parameters.`;
    }
  });
  field.addEventListener('input', () => {
    if (field.value.trim() === '') lastTemplate = '';
  });
});

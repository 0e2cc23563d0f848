import { enhance } from '../registry.ts';

/** `<form data-enhance="confirm-submit" data-confirm="...">`: asks before submitting (without JS it submits at once). */
enhance('confirm-submit', (form) => {
  form.addEventListener('submit', (event) => {
    const message = form.dataset.confirm ?? 'Are you sure?';
    if (!window.confirm(message)) event.preventDefault();
  });
});

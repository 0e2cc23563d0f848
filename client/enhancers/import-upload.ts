import { enhance } from '../registry.ts';

/**
 * `<form data-enhance="import-upload">` (the import page): sends the chosen file itself to
 * `POST /api/v1/imports` as the raw body, showing how much has been uploaded, then opens the import's page where
 * its progress is followed live. A file over the limit is refused before a byte is sent. Without the bundle the
 * form posts as multipart/form-data to `/import`, which gives the same result without the upload bar.
 */
enhance('import-upload', (el) => {
  const form = el as HTMLFormElement;
  const input = form.querySelector<HTMLInputElement>('input[type="file"]');
  const format = form.querySelector<HTMLSelectElement>('select[name="format"]');
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  const csrf = form.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? '';
  const progress = form.querySelector<HTMLElement>('[data-role="upload-progress"]');
  const bar = progress?.querySelector('progress');
  const text = progress?.querySelector<HTMLElement>('[data-role="upload-text"]');
  if (!input || !submit) return;
  const maxBytes = Number(submit.dataset.maxBytes) || Infinity;
  let sending = false;

  form.addEventListener('submit', (event) => {
    const file = input.files?.[0];
    // No file: let the form go to the server, which answers with the same message as always.
    if (!file) return;
    event.preventDefault();
    if (sending) return;
    clearError();
    if (file.size > maxBytes) {
      showError(`${file.name} is too large to import: the limit is ${describeBytes(maxBytes)} and the file is ${describeBytes(file.size)}. Split the file, or ask the administrator to raise the limit.`);
      return;
    }
    sending = true;
    submit.disabled = true;
    if (progress) progress.hidden = false;
    const query = new URLSearchParams({ fileName: file.name, format: format?.value || 'auto' });
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/imports?${query}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.floor((e.loaded / e.total) * 100);
      if (bar) bar.value = percent;
      if (text) text.textContent = `${percent}% of ${describeBytes(e.total)}`;
    });
    xhr.addEventListener('load', () => {
      const body = parse(xhr.responseText);
      if (xhr.status === 202 && typeof body?.url === 'string') {
        if (text) text.textContent = 'Uploaded. Opening the import…';
        window.location.assign(body.url);
        return;
      }
      fail(body?.error?.message ?? `The upload was refused (HTTP ${xhr.status}).`);
    });
    xhr.addEventListener('error', () => fail('The upload did not reach the server. Check the connection and try again.'));
    xhr.addEventListener('abort', () => fail('The upload was stopped.'));
    xhr.send(file);
  });

  function fail(message: string): void {
    sending = false;
    submit!.disabled = false;
    if (progress) progress.hidden = true;
    showError(message);
  }

  function clearError(): void {
    form.querySelector('.form-error')?.remove();
    input!.removeAttribute('aria-invalid');
  }

  function showError(message: string): void {
    clearError();
    const box = document.createElement('div');
    box.className = 'form-error';
    box.setAttribute('role', 'alert');
    box.tabIndex = -1;
    const strong = document.createElement('strong');
    strong.textContent = 'The file was not imported.';
    box.append(strong, ` ${message}`);
    form.prepend(box);
    input!.setAttribute('aria-invalid', 'true');
    box.focus();
  }
});

function parse(text: string): { url?: unknown; error?: { message?: string } } | undefined {
  try {
    return JSON.parse(text) as { url?: unknown; error?: { message?: string } };
  } catch {
    return undefined;
  }
}

/** Bytes as a person reads them (binary units, as the server's messages). */
export function describeBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

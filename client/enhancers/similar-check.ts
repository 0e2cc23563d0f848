import { enhance } from '../registry.ts';

const DEBOUNCE_MS = 900;
const MIN_CHARS = 40;

interface SimilarItem { id: string; title: string; model: string; similarity: number }

/**
 * "This looks like ...": while a transcript is pasted or typed, asks the server (`POST /api/v1/observations/similar`,
 * the same check the Preview button makes without JavaScript) which observations already logged have a similar
 * transcript, and lists them under the preview. Quiet while the transcript cannot be read yet.
 */
enhance('similar-check', (panel) => {
  const source = document.getElementById(panel.dataset.source ?? '') as HTMLTextAreaElement | null;
  const formatSelect = document.getElementById(panel.dataset.formatSource ?? '') as HTMLSelectElement | null;
  const csrf = panel.closest('form')?.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? '';
  if (!source) return;
  let timer: number | undefined;
  let inFlight: AbortController | undefined;
  let lastKey = '';

  const check = async () => {
    const transcript = source.value;
    const transcriptFormat = formatSelect?.value || 'auto';
    const key = `${transcriptFormat}\u0000${transcript}`;
    if (key === lastKey) return;
    lastKey = key;
    inFlight?.abort();
    if (transcript.trim().length < MIN_CHARS) return render([]);
    const controller = new AbortController();
    inFlight = controller;
    try {
      const response = await fetch('/api/v1/observations/similar', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ transcript, transcriptFormat, ...(panel.dataset.exclude ? { excludeId: panel.dataset.exclude } : {}) }),
        signal: controller.signal,
      });
      if (!response.ok) return render([]); // unreadable yet, or signed out: the form itself will say so
      const body = (await response.json()) as { similar: SimilarItem[] };
      if (controller === inFlight) render(body.similar);
    } catch {
      // Aborted by newer input, or offline: the Preview button still offers the same check.
    }
  };

  const render = (items: SimilarItem[]) => {
    panel.replaceChildren();
    if (items.length === 0) return;
    const box = document.createElement('div');
    box.className = 'similar-draft';
    box.setAttribute('role', 'note');
    const intro = document.createElement('p');
    const strong = document.createElement('strong');
    strong.textContent = 'This looks like';
    intro.append(strong, items.length === 1 ? ' an observation already logged.' : ' observations already logged.', ' If it is the same sighting, consider adding to it instead:');
    const list = document.createElement('ul');
    for (const item of items) {
      const li = document.createElement('li');
      const link = document.createElement('a');
      link.href = `/observations/${encodeURIComponent(item.id)}`;
      link.target = '_blank';
      link.rel = 'noopener';
      link.textContent = item.title;
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = `${Math.round(item.similarity * 100)}% alike`;
      const model = document.createElement('code');
      model.textContent = item.model;
      li.append(link, ' ', badge, ' ', model);
      list.append(li);
    }
    box.append(intro, list);
    panel.append(box);
  };

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void check(), DEBOUNCE_MS);
  };
  source.addEventListener('input', schedule);
  formatSelect?.addEventListener('change', schedule);
});

import type { Socket } from 'socket.io-client';
import type { ImportView } from '../../observations/import.presenter.ts';
import { enhance } from '../registry.ts';

/** Served by the app from the socket.io package; loaded only on pages that follow an import. */
const SOCKET_CLIENT_URL = '/assets/socket.io.js';

const STATUS_LABELS: Record<ImportView['status'], string> = { queued: 'Waiting to start', running: 'Importing', done: 'Finished', failed: 'Stopped' };

/**
 * `<section data-enhance="import-progress" data-import-id="…">` (an import's page): joins the import's room over
 * the socket (the ack carries the current state, so a page opened mid-import starts from it), moves the progress
 * bar and the counters as `import:progress` arrives, and on `import:finished` fetches the page again and swaps in
 * the server-rendered result (links to the new observations, the failures). Without the bundle the page shows the
 * state it was rendered with and a link to reload.
 */
enhance('import-progress', (section) => {
  const importId = section.dataset.importId;
  const status = section.querySelector<HTMLElement>('[data-field="status"]');
  if (!importId || !status || status.dataset.status === 'done' || status.dataset.status === 'failed') return;
  void follow(section, importId);
});

async function follow(section: HTMLElement, importId: string): Promise<void> {
  const { io } = (await import(/* dynamic: served apart from the bundle */ SOCKET_CLIENT_URL)) as typeof import('socket.io-client');
  const socket: Socket = io({ transports: ['websocket', 'polling'] });
  let latest: ImportView | undefined;
  let done = false;

  const show = (view: ImportView) => {
    if (done) return;
    // Events and the join's ack can cross: never go back to an older state.
    if (latest && !view.finished && view.counts.processed < latest.counts.processed) return;
    latest = view;
    render(section, view);
    if (view.finished) {
      done = true;
      socket.close();
      void swapResult(section);
    }
  };

  socket.on('connect', () => {
    socket.emit('import:join', { importId }, (reply: { ok?: boolean; import?: ImportView; error?: { message: string } }) => {
      if (reply.ok && reply.import) show(reply.import);
      else announce(section, reply.error?.message ?? 'Live progress is not available; reload the page to see how far the import is.');
    });
  });
  socket.on('import:progress', show);
  socket.on('import:finished', show);
}

function render(section: HTMLElement, view: ImportView): void {
  const status = section.querySelector<HTMLElement>('[data-field="status"]');
  if (status && status.dataset.status !== view.status) {
    status.dataset.status = view.status;
    status.className = `badge import-status-${view.status}`;
    status.textContent = STATUS_LABELS[view.status];
    announce(section, view.status === 'running' ? 'Reading the file…' : view.status === 'done' ? 'The import has finished.' : view.status === 'failed' ? 'The import stopped.' : '');
  }
  const bar = section.querySelector<HTMLProgressElement>('[data-field="bar"]');
  if (bar) {
    if (view.fraction === null) {
      bar.removeAttribute('value');
      bar.textContent = '';
    } else {
      const percent = Math.floor(view.fraction * 100);
      bar.value = percent;
      bar.textContent = `${percent}%`;
    }
  }
  for (const key of ['processed', 'imported', 'duplicates', 'failed'] as const) {
    const cell = section.querySelector<HTMLElement>(`[data-field="${key}"]`);
    if (cell) cell.textContent = String(view.counts[key]);
  }
}

function announce(section: HTMLElement, message: string): void {
  const live = section.querySelector<HTMLElement>('[data-field="announce"]');
  if (live) live.textContent = message;
}

/** The result is rendered by the server (one template for both paths): fetch the page and take its result part. */
async function swapResult(section: HTMLElement): Promise<void> {
  const current = section.querySelector<HTMLElement>('[data-role="result"]');
  if (!current) return;
  try {
    const response = await fetch(window.location.pathname, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    const fresh = page.querySelector('[data-role="result"]');
    if (fresh) current.replaceWith(document.importNode(fresh, true));
  } catch {
    announce(section, 'The import has finished: reload the page to see the result.');
  }
}

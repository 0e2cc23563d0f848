import type { Socket } from 'socket.io-client';
import { JOB_STATUS_LABELS as STATUS_LABELS } from '../../core/jobs/job-status-labels.ts';
import type { JobView } from '../../core/jobs/job.presenter.ts';
import { enhance } from '../registry.ts';

/** Served by the app from the socket.io package; loaded only on pages that follow a job. */
const SOCKET_CLIENT_URL = '/assets/socket.io.js';


/**
 * `<section data-enhance="job-progress" data-job-id="…">` (a job's page): joins the job's room over the socket
 * (the ack carries the current state), moves the progress bar and counters on each `job:update`, shows why a job
 * paused or failed, and when the job changes status (paused, resumed, finished) fetches the page again and swaps
 * in the server-rendered controls and result. Without the bundle the page shows the state it was rendered with.
 */
enhance('job-progress', (section) => {
  const jobId = section.dataset.jobId;
  const status = section.querySelector<HTMLElement>('[data-field="status"]');
  if (!jobId || !status || ['cancelled', 'completed', 'failed'].includes(status.dataset.status ?? '')) return;
  void follow(section, jobId);
});

async function follow(section: HTMLElement, jobId: string): Promise<void> {
  const { io } = (await import(/* dynamic: served apart from the bundle */ SOCKET_CLIENT_URL)) as typeof import('socket.io-client');
  const socket: Socket = io({ transports: ['websocket', 'polling'] });
  let latest: JobView | undefined;

  const show = (view: JobView) => {
    // Updates and the join's ack can cross: never go back to an older state.
    if (latest && Date.parse(view.updatedAt) < Date.parse(latest.updatedAt)) return;
    const statusChanged = latest !== undefined && latest.status !== view.status;
    latest = view;
    render(section, view);
    if (view.finished) socket.close();
    if (statusChanged || view.finished) void swapPage(section);
  };

  socket.on('connect', () => {
    socket.emit('job:join', { jobId }, (reply: { ok?: boolean; job?: JobView; error?: { message: string } }) => {
      if (reply.ok && reply.job) show(reply.job);
      else announce(section, reply.error?.message ?? 'Live progress is not available; reload the page to see how far the job is.');
    });
  });
  socket.on('job:update', show);
}

function render(section: HTMLElement, view: JobView): void {
  const status = section.querySelector<HTMLElement>('[data-field="status"]');
  if (status && status.dataset.status !== view.status) {
    status.dataset.status = view.status;
    status.className = `badge job-status-${view.status}`;
    status.textContent = STATUS_LABELS[view.status];
    announce(section, `The job is ${STATUS_LABELS[view.status].toLowerCase()}.`);
  }
  const bar = section.querySelector<HTMLProgressElement>('[data-field="bar"]');
  if (bar) {
    if (view.fraction === null) bar.removeAttribute('value');
    else {
      const percent = Math.floor(view.fraction * 100);
      bar.value = percent;
      bar.textContent = `${percent}%`;
    }
  }
  const set = (selector: string, value: string) => {
    const el = section.querySelector<HTMLElement>(selector);
    if (el) el.textContent = value;
  };
  set('[data-field="done"]', String(view.progress.done));
  set('[data-field="total"]', String(view.progress.total));
  for (const [name, value] of Object.entries(view.progress.counts ?? {})) set(`[data-count="${CSS.escape(name)}"]`, String(value));
  const error = section.querySelector<HTMLElement>('[data-field="error"]');
  if (error) {
    error.hidden = !view.error;
    error.textContent = view.error ? `${view.error.id}: ${view.error.message}` : '';
  }
}

function announce(section: HTMLElement, message: string): void {
  const live = section.querySelector<HTMLElement>('[data-field="announce"]');
  if (live) live.textContent = message;
}

/** Controls and result are rendered by the server (one template for both paths): fetch the page and take them. */
async function swapPage(section: HTMLElement): Promise<void> {
  try {
    const response = await fetch(window.location.pathname + window.location.search, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    for (const selector of ['.job-actions', '[data-role="result"]', '[data-field="run-after"]']) {
      const fresh = page.querySelector(selector);
      const current = section.querySelector(selector);
      if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      else if (current && !fresh) current.remove();
      else if (fresh && !current && selector === '.job-actions') section.querySelector('.job-status')?.append(document.importNode(fresh, true));
    }
  } catch {
    announce(section, 'The job has changed: reload the page to see it.');
  }
}

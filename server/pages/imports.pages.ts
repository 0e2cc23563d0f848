import express, { type Request, type Response, type Router } from 'express';
import { AppError, notFound } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { importFormatLabels, importFormats } from '../../observations/importers/index.ts';
import { formatBytes } from '../../observations/importers/read-source.ts';
import { presentImport, type ImportView } from '../../observations/import.presenter.ts';
import { listMyImports, loadImport, observationTitles } from '../../observations/import.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';

const formatChoices = [{ value: 'auto', label: 'Detect automatically' }, ...importFormats.map((f) => ({ value: f, label: importFormatLabels[f] }))];

/**
 * The import pages: `/import` (upload a file: the form posts to `POST /import`, or the page's script sends the
 * file to `POST /api/v1/imports` with upload progress; the person's recent imports below) and `/imports/:id` (live
 * progress over the socket, then the result: counts, links to the new observations, the records that failed).
 * The upload itself is handled in server/http/routes/import-uploads.routes.ts, before the body parsers.
 */
export function importPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/import', async (req, res) => {
    authorize(req.auth.actor, 'import.create');
    await renderImportForm(req, res, deps, {});
  });

  router.get('/imports/:id', async (req, res) => {
    const view = await loadReadable(req, deps);
    const links = await observationTitles(deps.db, view.observationIds);
    res.render('pages/import-status', { title: `Import: ${view.fileName}`, ...importPageData(view), links, moreImported: Math.max(0, view.counts.imported - links.length) });
  });

  return router;
}

/** The upload form with the person's recent imports; after a refused upload, its message and status. */
export async function renderImportForm(req: Request, res: Response, deps: AppDeps, options: { status?: AppError; values?: { format?: string } }): Promise<void> {
  const recent = await listMyImports(ctxOf(req, deps), 10);
  const error = options.status;
  res.status(error ? errorStatus[error.id] : 200).render('pages/import', {
    title: 'Import conversations',
    formats: formatChoices,
    values: { format: options.values?.format ?? 'auto' },
    maxBytes: deps.config.importMaxBytes,
    maxSize: formatBytes(deps.config.importMaxBytes),
    recent: recent.map(importPageData),
    ...(error ? { formError: error.message, errors: (error.details?.fields as Record<string, string> | undefined) ?? { file: error.message } } : {}),
  });
}

/** Loads an import the actor may read; other people's imports do not exist for them (404). */
async function loadReadable(req: Request, deps: AppDeps): Promise<ImportView> {
  const id = parseId(req.params.id, 'That import');
  authorize(req.auth.actor, 'import.list');
  const row = await loadImport(deps.db, id);
  if (!row || !can(req.auth.actor, 'import.read', { userId: row.userId })) throw notFound('That import');
  return presentImport(row);
}

/** The view with what the templates show beside it (sizes and percentages as a person reads them). */
export function importPageData(view: ImportView) {
  return {
    imp: view,
    size: formatBytes(view.byteSize),
    percent: view.fraction === null ? null : Math.floor(view.fraction * 100),
    hasPercent: view.fraction !== null,
    running: !view.finished,
    failed: view.status === 'failed',
    statusLabel: statusLabels[view.status],
  };
}

const statusLabels = { queued: 'Waiting to start', running: 'Importing', done: 'Finished', failed: 'Stopped' } as const;

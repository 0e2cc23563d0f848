import express, { type Request, type Response, type Router } from 'express';
import { authorize } from '../../../core/policy.ts';
import {
  DestinationClosed,
  exportContentTypes,
  exportFileName,
  exportFormats,
  exportObservations,
  writableSink,
  type ExportFormat,
} from '../../../observations/export/export-observations.ts';
import { listFiltersSchema } from '../../../observations/observation.input.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseOrThrow } from '../validate.ts';

/** The path of an export in a format (under /api/v1), for links and the docs. */
export const exportPath = (format: ExportFormat) => `/observations/export.${format}`;

/**
 * Open data: `GET /api/v1/observations/export.jsonl|.csv|.zip` with the list's filters streams every matching
 * observation the caller may see (not one page). Mounted before the observations router, whose `/observations/:id`
 * would otherwise take `export.jsonl` for an id. Anonymous callers get public observations only.
 */
export function exportsApi(deps: AppDeps): Router {
  const router = express.Router();
  for (const format of exportFormats) router.get(exportPath(format), (req, res) => streamExport(deps, req, res, format));
  return router;
}

/**
 * Streams one export to a response: headers for a download that intermediaries must neither buffer nor
 * compress, backpressure on every write, and the database read stopped when the client goes away. A failure
 * before the first byte is an ordinary JSON error; after it, the connection is cut, so a truncated file never
 * looks complete (the ZIP then lacks its central directory, the chunked body its last chunk).
 */
export async function streamExport(deps: AppDeps, req: Request, res: Response, format: ExportFormat): Promise<void> {
  authorize(req.auth.actor, 'observation.export');
  const filters = parseOrThrow(listFiltersSchema, req.query, 'The filters');
  const ctx = ctxOf(req, deps);
  res.status(200).set({
    'Content-Type': exportContentTypes[format],
    'Content-Disposition': `attachment; filename="${exportFileName(format, ctx.now())}"`,
    'Cache-Control': 'no-store, no-transform',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
  });
  // Express answers HEAD with the GET handler: the headers tell all there is, without reading the set.
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stopped = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) stopped.abort();
  });
  try {
    await exportObservations(ctx, filters, format, writableSink(res), { signal: stopped.signal });
    res.end();
  } catch (error) {
    if (stopped.signal.aborted || error instanceof DestinationClosed) return;
    if (!res.headersSent) throw error;
    deps.logger.error('export failed mid-stream', { path: req.path, error: (error as Error)?.stack ?? String(error) });
    res.destroy();
  }
}

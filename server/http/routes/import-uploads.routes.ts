import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import type { UserActor } from '../../../accounts/actor.ts';
import { AppError } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { createImport } from '../../../observations/create-import.command.ts';
import { importFormats } from '../../../observations/importers/index.ts';
import type { AppDeps } from '../../app-deps.ts';
import type { ImportQueue } from '../../imports/import-queue.ts';
import { renderImportForm } from '../../pages/imports.pages.ts';
import { preparePageLocals } from '../../pages/observations/page-locals.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { verifyCsrf } from '../middleware/csrf.ts';
import { ctxOf } from '../request-context.ts';
import { parseOrThrow } from '../validate.ts';
import { receiveMultipart, receiveRawUpload, uploadTooLarge } from '../upload.ts';

const formatParam = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' || v === 'auto' ? null : v))
  .pipe(z.enum(importFormats, { error: `The format must be auto or one of: ${importFormats.join(', ')}` }).nullable());

/** The query of `POST /api/v1/imports` (documented in the OpenAPI document from this schema). */
export const uploadQuerySchema = z.object({
  fileName: z.string({ error: 'Name the file: add ?fileName=conversations.json (detection reads its extension)' }).trim().min(1, 'Name the file: add ?fileName=conversations.json (detection reads its extension)'),
  format: formatParam,
});

/**
 * File uploads for import, streamed to a temporary file (never held in memory) and refused past the configured
 * limit with 413, then queued to run in the background:
 * - `POST /api/v1/imports?fileName=F&format=auto|FORMAT`: the raw file as the request body (API clients, and the
 *   import page's script); answers 202 with the import and a Location to poll (`GET /api/v1/imports/:id`).
 * - `POST /import`: the import page's form as multipart/form-data (without script); redirects to the import's page.
 * Both parse their own bodies, so app.ts mounts this router before the site-wide body parsers.
 */
export function importUploads(deps: AppDeps, queue: ImportQueue): Router {
  const router = express.Router();
  const maxBytes = deps.config.importMaxBytes;

  router.post('/api/v1/imports', authenticate(deps), verifyCsrf(deps), async (req, res) => {
    authorize(req.auth.actor, 'import.create');
    const query = parseOrThrow(uploadQuerySchema, req.query, 'The upload');
    const declared = Number(req.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) throw uploadTooLarge(maxBytes);
    const filePath = await queue.newUploadPath();
    const bytes = await receiveRawUpload(req, filePath, maxBytes);
    const view = await queueUpload(req, filePath, { fileName: query.fileName, byteSize: bytes, format: query.format });
    res.status(202).location(`/api/v1/imports/${view.id}`).json(view);
  });

  router.post('/import', authenticate(deps), async (req, res) => {
    authorize(req.auth.actor, 'import.create');
    const filePath = await queue.newUploadPath();
    let fields: Record<string, string> = {};
    try {
      const declared = Number(req.get('content-length'));
      // The form's own fields are a few hundred bytes beside the file.
      if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) throw uploadTooLarge(maxBytes);
      const upload = await receiveMultipart(req, req.get('content-type') ?? '', {
        fileField: 'file',
        filePath,
        maxFileBytes: maxBytes,
        beforeFile: (seen) => checkFormCsrf(req, res, deps, seen),
      });
      fields = upload.fields;
      if (!upload.file) await checkFormCsrf(req, res, deps, fields);
      if (!upload.file) throw new AppError('validation_failed', 'Choose a file to import.', { fields: { file: 'Choose a file to import.' } });
      const format = formatParam.safeParse(fields.format);
      if (!format.success) throw new AppError('validation_failed', format.error.issues[0]!.message, { fields: { format: format.error.issues[0]!.message } });
      const view = await queueUpload(req, filePath, { fileName: upload.file.fileName, byteSize: upload.file.bytes, format: format.data });
      res.redirect(303, view.url);
    } catch (error) {
      await rm(filePath, { force: true });
      if (!(error instanceof AppError) || ['unauthenticated', 'forbidden', 'csrf_failed', 'session_expired', 'internal'].includes(error.id)) throw error;
      if (!req.complete) res.set('Connection', 'close');
      preparePageLocals(req, res, deps);
      await renderImportForm(req, res, deps, { status: error, values: { format: fields.format ?? 'auto' } });
    }
  });

  // A refused upload is answered before its body is read: close the connection rather than read the rest.
  router.use(['/api/v1/imports', '/import'], (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!req.complete && !res.headersSent) res.set('Connection', 'close');
    next(err);
  });

  async function queueUpload(req: Request, filePath: string, upload: { fileName: string; byteSize: number; format: (typeof importFormats)[number] | null }) {
    try {
      if (upload.byteSize === 0) throw new AppError('validation_failed', 'The file is empty: there is nothing to import.', { fields: { file: 'The file is empty.' } });
      const view = await createImport(ctxOf(req, deps), upload);
      queue.enqueue(view, req.auth.actor as UserActor, filePath);
      return view;
    } catch (error) {
      await rm(filePath, { force: true });
      throw error;
    }
  }

  return router;
}

/** The form's CSRF token travels as its first field: checked (as every form's is) before the file is stored. */
function checkFormCsrf(req: Request, res: Response, deps: AppDeps, fields: Record<string, string>): Promise<void> {
  req.body = { _csrf: fields._csrf };
  return new Promise((resolve, reject) => verifyCsrf(deps)(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

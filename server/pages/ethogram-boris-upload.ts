import express, { type Request, type Response, type Router } from 'express';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { importBorisEthogram, type ImportedBorisEthogram } from '../../ethograms/boris/import-boris.command.ts';
import { parseBorisFile } from '../../ethograms/boris/read-boris-file.ts';
import { ethogramSlugSchema } from '../../ethograms/ethogram.input.ts';
import { parseOrThrow } from '../../core/validation.ts';
import type { AppDeps } from '../app-deps.ts';
import { authenticate } from '../http/middleware/authenticate.ts';
import { verifyCsrf } from '../http/middleware/csrf.ts';
import { ctxOf } from '../http/request-context.ts';
import { receiveMultipart } from '../http/upload.ts';
import { flash } from './form.ts';

/** BORIS projects with many observations run to megabytes; the ethogram is a small part, but the file comes whole. */
const MAX_BORIS_FILE_BYTES = 50 * 1024 * 1024;

/** The flash after a BORIS import: what was made, and what the researcher must still write before publishing. */
export function borisImportedMessage(imported: ImportedBorisEthogram): string {
  const made = `Imported ${imported.behaviours} behaviours from BORIS as version ${imported.version.number} (${imported.version.status}) of ${imported.ethogram.name}.`;
  if (imported.missing.length === 0) return made;
  return `${made} BORIS records no inclusion criteria or examples: ${imported.missing.length} behaviour(s) need them before publishing (listed below).`;
}

/** Every form's CSRF token is checked before its file is stored; multipart fields arrive before the file. */
function checkFormCsrf(req: Request, res: Response, deps: AppDeps, fields: Record<string, string>): Promise<void> {
  req.body = { _csrf: fields._csrf };
  return new Promise((resolve, reject) => verifyCsrf(deps)(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

/**
 * `POST /ethograms/import-boris`: the "Import a BORIS project" form on /ethograms, a `.boris` or `.boris.gz` file
 * sent as multipart/form-data, so it works without script (gzip cannot be pasted). It parses its own body, so
 * app.ts mounts it before the site-wide body parsers. Success goes to the new draft; a refusal comes back to
 * /ethograms with the message (nothing imported).
 */
export function ethogramBorisUpload(deps: AppDeps): Router {
  const router = express.Router();
  router.post('/ethograms/import-boris', authenticate(deps), async (req, res) => {
    authorize(req.auth.actor, 'ethogram.create');
    const filePath = path.join(tmpdir(), `menagerie-boris-${randomUUID()}`);
    try {
      const upload = await receiveMultipart(req, req.get('content-type') ?? '', {
        fileField: 'file',
        filePath,
        maxFileBytes: MAX_BORIS_FILE_BYTES,
        beforeFile: (seen) => checkFormCsrf(req, res, deps, seen),
      });
      if (!upload.file) await checkFormCsrf(req, res, deps, upload.fields);
      if (!upload.file || upload.file.bytes === 0) throw new AppError('validation_failed', 'Choose a .boris or .boris.gz file to import.', { fields: { file: 'Choose a file.' } });
      const publish = upload.fields.publish === 'true';
      if (publish) authorize(req.auth.actor, 'ethogram.publish', { status: 'draft' });
      const slugText = (upload.fields.slug ?? '').trim();
      const slug = slugText ? parseOrThrow(ethogramSlugSchema, slugText, 'The slug') : undefined;
      const project = parseBorisFile(await readFile(filePath));
      const imported = await importBorisEthogram(ctxOf(req, deps), { project, publish, slug, newVersion: upload.fields.newVersion === 'true' });
      flash(res, borisImportedMessage(imported));
      res.redirect(303, `/ethograms/${imported.ethogram.slug}/versions/${imported.version.number}`);
    } catch (error) {
      if (!(error instanceof AppError) || ['unauthenticated', 'forbidden', 'csrf_failed', 'session_expired', 'internal'].includes(error.id)) throw error;
      if (!req.complete) res.set('Connection', 'close');
      flash(res, `BORIS import refused: ${error.message}`);
      res.redirect(303, '/ethograms#import-boris');
    } finally {
      await rm(filePath, { force: true });
    }
  });
  return router;
}

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AppError } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { fileImportedRecords } from '../../../observations/import-observations.command.ts';
import { parseOtlpTraces } from '../../../observations/importers/index.ts';
import type { AppDeps } from '../../app-deps.ts';
import { errorStatus } from '../error-status.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { errorBody, toAppError } from '../middleware/errors.ts';
import { ctxOf } from '../request-context.ts';

const PROTOBUF = ['application/x-protobuf', 'application/protobuf'];

/**
 * The OpenTelemetry receiver: `POST /v1/traces` (OTLP/HTTP, JSON encoding) files every span carrying `gen_ai.*`
 * messages as an observation captured by 'import', through the same command as file imports (re-sent spans are
 * duplicates, not new observations). Other spans are not filed and are not errors. Point an exporter's traces
 * endpoint here with `Authorization: Bearer <Menagerie API token>`.
 *
 * It parses its own body and answers every error as JSON, so app.ts mounts it before the site-wide body parsers.
 */
export function otlpReceiver(deps: AppDeps): Router {
  const router = express.Router();
  router.post(
    '/v1/traces',
    authenticate(deps),
    requireApiToken,
    requireJsonEncoding,
    express.json({ limit: deps.config.bodyLimit, type: () => true, strict: false }),
    async (req, res) => {
      const body: unknown = req.body;
      if (!isOtlpTracesBody(body)) {
        throw new AppError('malformed_json', 'The body is not an OTLP traces request: send a JSON object with a "resourceSpans" array (ExportTraceServiceRequest).');
      }
      const summary = await fileImportedRecords(ctxOf(req, deps), parseOtlpTraces(body, 'otlp /v1/traces'));
      if (summary.failed.length === 0) {
        res.status(200).json({});
        return;
      }
      const reasons = summary.failed.slice(0, 5).map((f) => `span ${f.recordId ?? f.index}: ${f.reason}`);
      const more = summary.failed.length > reasons.length ? `; and ${summary.failed.length - reasons.length} more` : '';
      res.status(200).json({ partialSuccess: { rejectedSpans: summary.failed.length, errorMessage: reasons.join('; ') + more } });
    },
  );
  router.use('/v1/traces', (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const appErr = toAppError(err, req);
    if (appErr.id === 'internal') deps.logger.error('unhandled error', { path: req.path, error: (err as Error)?.stack ?? String(err) });
    if (res.headersSent) return;
    res.status(errorStatus[appErr.id]).json(errorBody(appErr));
  });
  return router;
}

/** Only a Bearer token: exporters carry no cookies, and refusing sessions leaves no request to forge. */
function requireApiToken(req: Request, _res: Response, next: NextFunction): void {
  if (req.auth.via !== 'token') {
    throw new AppError('unauthenticated', 'Send a Menagerie API token as "Authorization: Bearer <token>" (create one on your account page).');
  }
  authorize(req.auth.actor, 'observation.create');
  next();
}

function requireJsonEncoding(req: Request, _res: Response, next: NextFunction): void {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (PROTOBUF.includes(type)) {
    throw new AppError('unsupported_media_type', 'Protobuf bodies are not accepted: use the OTLP/HTTP JSON encoding (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json).');
  }
  if (type !== 'application/json') {
    throw new AppError('unsupported_media_type', `Send the OTLP/HTTP JSON encoding with "Content-Type: application/json" (got ${type ? `"${type}"` : 'none'}).`);
  }
  next();
}

/** An ExportTraceServiceRequest in JSON; `{}` is the empty one (proto3 JSON omits empty repeated fields). */
function isOtlpTracesBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  return Array.isArray((body as { resourceSpans?: unknown }).resourceSpans) || Object.keys(body).length === 0;
}

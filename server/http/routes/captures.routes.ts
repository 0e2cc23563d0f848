import express, { type Request, type Router } from 'express';
import { notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { captureListFiltersSchema, promoteCaptureSchema } from '../../../observations/capture/capture-list.input.ts';
import { CAPTURE_BODY_LIMIT, captureInputSchema } from '../../../observations/capture/capture.input.ts';
import { getCapture, listCaptures, loadCaptureRef } from '../../../observations/capture/capture.queries.ts';
import { promoteCapture } from '../../../observations/capture/promote-capture.command.ts';
import { recordCapture } from '../../../observations/capture/record-capture.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

/**
 * The field log's JSON API under /api/v1: file a capture (what the SDK helper `observe()` sends), list and read
 * captures, promote one to an observation. Contributors see their own captures, researchers everyone's.
 */
export function capturesApi(deps: AppDeps): Router {
  const router = express.Router();

  async function authorizeOn(req: Request, action: 'capture.read' | 'capture.promote'): Promise<string> {
    const id = parseId(req.params.id, 'That capture');
    const ref = await loadCaptureRef(deps.db, id);
    if (!ref) throw notFound('That capture');
    authorize(req.auth.actor, action, ref);
    return id;
  }

  router.post('/captures', async (req, res) => {
    authorize(req.auth.actor, 'capture.create');
    const body: unknown = req.body;
    // Whatever the body says, a capture arriving here was sent by a client, not recorded by the proxy.
    const input = parseOrThrow(captureInputSchema, { ...(isObject(body) ? body : {}), source: 'sdk' }, 'The capture');
    const { id } = await recordCapture(ctxOf(req, deps), input);
    res.status(201).location(`/api/v1/captures/${id}`).json({ id });
  });

  router.get('/captures', async (req, res) => {
    authorize(req.auth.actor, 'capture.list');
    const filters = parseOrThrow(captureListFiltersSchema, req.query, 'The filters');
    res.json(await listCaptures(ctxOf(req, deps), filters));
  });

  router.get('/captures/:id', async (req, res) => {
    const id = await authorizeOn(req, 'capture.read');
    const capture = await getCapture(deps.db, id);
    if (!capture) throw notFound('That capture');
    res.json(capture);
  });

  router.post('/captures/:id/promote', async (req, res) => {
    const overrides = parseOrThrow(promoteCaptureSchema, req.body ?? {}, 'The promotion');
    const id = await authorizeOn(req, 'capture.promote');
    const observation = await promoteCapture(ctxOf(req, deps), id, overrides);
    res.status(201).location(`/api/v1/observations/${observation.id}`).json(observation);
  });

  return router;
}

/**
 * A capture carries two bodies of up to CAPTURE_BODY_LIMIT each, as JSON strings (escaping can double their
 * size), more than the site-wide body limit. app.ts mounts this before the site-wide parsers: it reads the JSON
 * body of `POST /api/v1/captures` with the larger limit, after authenticating, so only signed-in callers can send
 * that much; the site-wide parsers then find the body already read.
 */
export function captureUploadBody(deps: AppDeps): Router {
  const router = express.Router();
  const limit = Math.max(deps.config.bodyLimit, 4 * CAPTURE_BODY_LIMIT + 64 * 1024);
  router.post(
    '/api/v1/captures',
    authenticate(deps),
    (req, _res, next) => {
      authorize(req.auth.actor, 'capture.create');
      next();
    },
    express.json({ limit, type: ['application/json', 'application/*+json'] }),
  );
  return router;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import express, { type Router } from 'express';
import type { AppDeps } from '../../app-deps.ts';
import { buildOpenApi } from '../openapi/build-openapi.ts';

/** Serves the generated OpenAPI 3.1 document (built once per app). */
export function openApiRoute(deps: AppDeps): Router {
  const router = express.Router();
  let doc: unknown;
  router.get('/openapi.json', (_req, res) => {
    doc ??= buildOpenApi(deps.config.baseUrl);
    res.json(doc);
  });
  return router;
}

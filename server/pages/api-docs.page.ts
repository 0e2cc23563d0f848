import express, { type Router } from 'express';
import type { AppDeps } from '../app-deps.ts';
import { buildOpenApi } from '../http/openapi/build-openapi.ts';

type Doc = ReturnType<typeof buildOpenApi>;

/** A readable page over the same OpenAPI document that /api/v1/openapi.json serves. */
export function apiDocsPage(deps: AppDeps): Router {
  const router = express.Router();
  let groups: unknown;
  router.get('/api', (_req, res) => {
    groups ??= groupByTag(buildOpenApi(deps.config.baseUrl));
    res.render('pages/api-docs', { title: 'API', groups, baseUrl: deps.config.baseUrl });
  });
  return router;
}

function groupByTag(doc: Doc) {
  const byTag = new Map<string, unknown[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods as Record<string, Record<string, unknown>>)) {
      const tag = (op.tags as string[])[0]!;
      const body = (op.requestBody as { content: { 'application/json': { schema: unknown } } } | undefined)?.content['application/json'].schema;
      const params = (op.parameters as { name: string; in: string; required: boolean; description?: string }[]).filter((p) => p.in !== 'path');
      const list = byTag.get(tag) ?? [];
      list.push({
        method: method.toUpperCase(),
        path,
        anchor: String(op.operationId),
        summary: op.summary,
        description: op.description,
        params,
        body: body ? JSON.stringify(body, null, 2) : null,
        responses: Object.entries(op.responses as Record<string, { description: string }>).map(([status, r]) => ({ status, description: r.description })),
      });
      byTag.set(tag, list);
    }
  }
  return [...byTag].map(([tag, ops]) => ({ tag, ops }));
}

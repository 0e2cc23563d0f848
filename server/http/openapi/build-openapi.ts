import { z } from 'zod';
import { errorIds } from '../../../core/errors.ts';
import { errorStatus } from '../error-status.ts';
import type { Operation } from './operation.ts';
import { operations } from './operations.ts';

const toOpenApiPath = (p: string) => '/api/v1' + p.replace(/:([A-Za-z]+)/g, '{$1}');

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function queryParameters(schema: z.ZodType | undefined) {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

function operationObject(op: Operation) {
  const params = [...op.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const headers = op.idempotent
    ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 }, description: 'Repeat a POST safely: the same key returns the first result instead of a duplicate.' }]
    : [];
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(op.success)) responses[status] = { description };
  const errors = new Set(['validation_failed', ...(op.access === 'anyone' ? [] : ['unauthenticated', 'forbidden']), ...(op.errors ?? [])]);
  for (const id of errors) {
    const status = errorStatus[id as keyof typeof errorStatus];
    if (!status) continue;
    const key = String(status);
    const existing = responses[key] as { description: string } | undefined;
    responses[key] = {
      description: existing ? `${existing.description}, ${id}` : id,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    tags: [op.tag],
    summary: op.summary,
    description: [op.description, `Access: ${op.access}.`].filter(Boolean).join('\n\n'),
    operationId: `${op.method}${op.path.replace(/[/:-](\w)/g, (_, c: string) => c.toUpperCase())}`,
    parameters: [...params, ...queryParameters(op.query), ...headers],
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
    responses,
    security: op.access === 'anyone' ? [{}, { bearer: [] }, { session: [] }] : [{ bearer: [] }, { session: [] }],
  };
}

/** The OpenAPI 3.1 document of the JSON API, generated from the operation list and its zod schemas. */
export function buildOpenApi(baseUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const p = toOpenApiPath(op.path);
    paths[p] ??= {};
    paths[p]![op.method] = operationObject(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Menagerie API',
      version: '1',
      description:
        'The JSON API of Menagerie, a field station for the behaviour of generative models. Authenticate with a personal API token (`Authorization: Bearer TOKEN`, from your account page or `npx menagerie admin token EMAIL`) or a browser session (which also needs the `X-CSRF-Token` header on writes). Errors are `{ "error": { "id", "message", "details" } }`.',
    },
    servers: [{ url: baseUrl }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A personal API token.' },
        session: { type: 'apiKey', in: 'cookie', name: 'mng_session', description: 'A browser session (writes also need X-CSRF-Token).' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['id', 'message'],
              properties: {
                id: { type: 'string', enum: [...errorIds] },
                message: { type: 'string', description: 'What went wrong and what to do about it.' },
                details: { type: 'object', description: '`fields` maps each invalid field (dotted path) to its message.' },
              },
            },
          },
        },
      },
    },
  };
}

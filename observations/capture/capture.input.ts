import * as z from 'zod';
import { captureApis, captureEndReasons, captureOutcomes, captureSources } from './capture.schema.ts';

/** Largest raw request or response body a capture keeps (longer bodies are refused by the API, cut by the proxy). */
export const CAPTURE_BODY_LIMIT = 8 * 1024 * 1024;

const headers = z.record(z.string().max(200), z.string().max(8192)).default({});
const millis = z.number().finite().min(0).max(86_400_000).nullable().default(null);

/**
 * One exchange to file in the field log, as the proxy records it and as the SDK helper sends it
 * (`POST /api/v1/captures`). Raw bodies are text exactly as they crossed; for streams the raw SSE text.
 */
export const captureInputSchema = z.object({
  source: z.enum(captureSources),
  upstream: z.string().trim().min(1).max(200),
  api: z.enum(captureApis),
  method: z.string().trim().toUpperCase().min(1).max(16).default('POST'),
  path: z.string().trim().startsWith('/', 'must start with "/"').max(2000),
  streamed: z.boolean().default(false),
  outcome: z.enum(captureOutcomes),
  endReason: z.enum(captureEndReasons),
  httpStatus: z.number().int().min(100).max(599).nullable().default(null),
  error: z.string().max(10_000).nullable().default(null),
  requestHeaders: headers,
  requestBody: z.string().max(CAPTURE_BODY_LIMIT),
  responseHeaders: headers,
  responseBody: z.string().max(CAPTURE_BODY_LIMIT).default(''),
  startedAt: z.coerce.date(),
  firstByteMs: millis,
  firstTokenMs: millis,
  durationMs: millis,
  /** sha256 hex of the provider key; the key itself is never sent or stored. */
  keyHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest').nullable().default(null),
  flag: z.string().trim().max(2000).nullable().default(null).transform((v) => (v ? v : null)),
});
export type CaptureInput = z.input<typeof captureInputSchema>;
export type ParsedCaptureInput = z.output<typeof captureInputSchema>;

/** Headers that carry credentials or session state: never stored, whatever the caller sends. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'x-menagerie-token',
]);

/** Headers with credentials removed and names lower-cased: what a capture may keep. */
export function storableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value === undefined || SECRET_HEADERS.has(key) || key.includes('secret') || key.endsWith('-token') || key.endsWith('-key')) continue;
    out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

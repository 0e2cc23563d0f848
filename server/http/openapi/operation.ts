import type { z } from 'zod';

/** Who may call an operation, as the policy decides it (shown in the docs; enforced by core/policy.ts). */
export type Access = 'anyone' | 'signed-in' | 'researcher' | 'admin';

/**
 * One documented API operation. Request schemas are the same zod schemas the routes validate with,
 * so the document cannot drift from what the server accepts.
 */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path under /api/v1, e.g. `/observations/:id`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Status -> description of a success answer. */
  success: Record<number, string>;
  /** Error ids this operation can answer with (beyond the common ones). */
  errors?: string[];
  idempotent?: boolean;
  /** A sample path with real-looking parameters, for the route-coverage test. */
  example?: string;
}

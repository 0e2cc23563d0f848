/**
 * Running a technique by name, as the command line and the product do: validate the parameters with the technique's
 * schema (every problem listed), run it, and wrap the result in the result document's envelope, which records what
 * is needed to reproduce it (engine and schema versions, model folder and weights sha256, parameters, seed).
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Model } from '../engine/model.ts';
import { ENGINE_VERSION } from '../index.ts';
import { findTechnique, techniques } from './index.ts';
import type { Progress, Technique } from './technique.ts';

/** The result document: the technique's result inside an envelope that says how to reproduce it. */
export interface ResultDocument<R = unknown> {
  technique: string;
  schemaVersion: number;
  engineVersion: string;
  model: { dir: string; type: string; weightsSha256: string };
  /** The parameters as validated (defaults filled in). */
  params: unknown;
  /** The seed of any sampling (null for techniques without randomness). */
  seed: number | null;
  startedAt: string;
  durationMs: number;
  result: R;
}

export interface RunTechniqueOptions {
  model: Model;
  /** The model folder as the caller named it (default: the folder it was loaded from). */
  modelDir?: string;
  progress?: Progress;
  signal?: AbortSignal;
  /** A seed for techniques that sample; used when the parameters do not name one. */
  seed?: number;
}

/** The technique of a name, or an `invalid_input` error naming the techniques there are. */
export function techniqueNamed(name: string): Technique<any, any> {
  const t = findTechnique(name);
  if (!t) {
    throw new EngineError('invalid_input', `There is no technique "${name}". The techniques are: ${techniques.map((x) => x.name).join(', ')}.`, { technique: name });
  }
  return t;
}

/** Whether a technique's parameters have a `seed` field. */
function takesSeed(t: Technique<any, any>): boolean {
  const shape = (t.params as unknown as { shape?: Record<string, unknown> }).shape;
  return !!shape && 'seed' in shape;
}

/** Validates raw parameters against a technique's schema; the error lists each problem with its path. */
export function parseParams<P>(technique: Technique<P, unknown>, raw: unknown): P {
  const r = technique.params.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const message = i.message.replace(/\.$/, '');
    return i.path.length ? `${i.path.join('.')}: ${message}` : message;
  });
  throw new EngineError(
    'invalid_input',
    `The parameters for ${technique.name} are not valid: ${problems.join('; ')}.`,
    { technique: technique.name, problems: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  );
}

/** Runs a technique by name and returns its result document. */
export async function runTechnique(name: string, params: unknown, opts: RunTechniqueOptions): Promise<ResultDocument> {
  const technique = techniqueNamed(name);
  let raw = params ?? {};
  const seeded = takesSeed(technique);
  if (seeded && opts.seed !== undefined && raw && typeof raw === 'object' && !Array.isArray(raw) && !('seed' in raw)) {
    raw = { ...(raw as object), seed: opts.seed };
  }
  const parsed = parseParams(technique, raw);
  const startedAt = new Date();
  const t0 = performance.now();
  const result = await technique.run(parsed, { model: opts.model, progress: opts.progress ?? (() => {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const durationMs = Math.round(performance.now() - t0);
  const seed = seeded ? ((parsed as { seed?: number }).seed ?? null) : (opts.seed ?? null);
  return {
    technique: technique.name,
    schemaVersion: technique.schemaVersion,
    engineVersion: ENGINE_VERSION,
    model: { dir: opts.modelDir ?? opts.model.dir, type: opts.model.config.modelType, weightsSha256: opts.model.weightsSha256 },
    params: parsed,
    seed,
    startedAt: startedAt.toISOString(),
    durationMs,
    result,
  };
}

/** JSON Schema of the result document's envelope (its `result` is the technique's result schema). */
export function envelopeJsonSchema(resultSchema: unknown): Record<string, unknown> {
  return {
    type: 'object',
    required: ['technique', 'schemaVersion', 'engineVersion', 'model', 'params', 'seed', 'startedAt', 'durationMs', 'result'],
    properties: {
      technique: { type: 'string' },
      schemaVersion: { type: 'integer' },
      engineVersion: { type: 'string' },
      model: {
        type: 'object',
        required: ['dir', 'type', 'weightsSha256'],
        properties: { dir: { type: 'string' }, type: { type: 'string' }, weightsSha256: { type: 'string' } },
      },
      params: {},
      seed: { type: ['integer', 'null'] },
      startedAt: { type: 'string', format: 'date-time' },
      durationMs: { type: 'integer' },
      result: resultSchema,
    },
  };
}

/**
 * Every technique's parameters and result as JSON Schema (zod's toJSONSchema), with its summary and schema version,
 * for the docs and for clients: `{ [name]: { summary, schemaVersion, params, result, document } }`.
 */
export function techniqueJsonSchemas(): Record<string, { summary: string; schemaVersion: number; params: unknown; result: unknown; document: unknown }> {
  const out: Record<string, { summary: string; schemaVersion: number; params: unknown; result: unknown; document: unknown }> = {};
  for (const t of techniques) {
    const params = z.toJSONSchema(t.params, { io: 'input', unrepresentable: 'any' });
    const result = z.toJSONSchema(t.result, { unrepresentable: 'any' });
    out[t.name] = { summary: t.summary, schemaVersion: t.schemaVersion, params, result, document: envelopeJsonSchema(result) };
  }
  return out;
}

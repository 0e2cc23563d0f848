import type { z } from 'zod';
import type { Model } from '../engine/model.ts';

/** Progress of a long technique run: `done` of `total` units, with a short label ("layer 3", "token 12"). */
export type Progress = (done: number, total: number, label?: string) => void;

/** What a technique run receives besides its parameters. */
export interface TechniqueContext {
  model: Model;
  progress: Progress;
  /** Aborts long runs (patching sweeps, scans, generation) between units of work. */
  signal?: AbortSignal;
}

/**
 * One technique: a job kind with a versioned parameter schema and a versioned result schema (zod, exported as
 * JSON Schema in the docs). `run` is built on the model's hooks (runWithCache / runWithHooks), never on a special
 * path through the model. The result is the technique's own part of the result document; the envelope (engine
 * version, schema version, model folder, weights sha256, parameters, seed) is added by `runTechnique`.
 */
export interface Technique<P = unknown, R = unknown> {
  name: string;
  /** One line for `menagerie experiment --help`. */
  summary: string;
  schemaVersion: number;
  params: z.ZodType<P>;
  result: z.ZodType<R>;
  run(params: P, ctx: TechniqueContext): Promise<R>;
  /** A readable summary of a result for the command line (without --json). */
  summarize(result: R, model: Model): string;
}

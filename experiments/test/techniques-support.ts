/** Helpers for the technique tests: run a technique as a caller would (parse params, run, check the result schema). */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import path from 'node:path';
import type { z } from 'zod';
import { loadModel, type Model } from '../engine/model.ts';
import type { Technique } from '../techniques/technique.ts';
import { FIXTURES } from './fixture-support.ts';

export function loadFixture(name: string): Promise<Model> {
  return loadModel(path.join(FIXTURES, name), { threads: 0 });
}

/** Loads the named fixtures before the file's tests and closes them after; the map fills in `before`. */
export function useFixtures(names: readonly string[]): Map<string, Model> {
  const models = new Map<string, Model>();
  before(async () => {
    for (const name of names) models.set(name, await loadFixture(name));
  });
  after(async () => {
    for (const m of models.values()) await m.close();
  });
  return models;
}

export interface Ran<R> {
  result: R;
  progress: [number, number, string | undefined][];
}

/**
 * Parses `raw` with the technique's parameter schema, runs it, checks that the result parses with its result schema
 * and survives a JSON round trip unchanged (plain arrays, finite numbers, strings).
 */
export async function runTechnique<P, R>(technique: Technique<P, R>, model: Model, raw: unknown, signal?: AbortSignal): Promise<Ran<R>> {
  const params = technique.params.parse(raw);
  const progress: Ran<R>['progress'] = [];
  const result = await technique.run(params, { model, progress: (done, total, label) => progress.push([done, total, label]), signal });
  technique.result.parse(result);
  assertPlainJson(result, 'result');
  assert.equal(typeof technique.summarize(result, model), 'string');
  return { result, progress };
}

/** Only plain objects, arrays, strings, booleans, null and finite numbers (what JSON keeps unchanged). */
export function assertPlainJson(x: unknown, at: string): void {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
  if (typeof x === 'number') {
    assert.ok(Number.isFinite(x), `${at} is ${x}, which JSON cannot hold`);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((v, i) => assertPlainJson(v, `${at}[${i}]`));
    return;
  }
  assert.ok(typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype, `${at} is not a plain object (${Object.prototype.toString.call(x)})`);
  for (const [k, v] of Object.entries(x as object)) assertPlainJson(v, `${at}.${k}`);
}

/** The messages of a failed parse, joined, with their paths ("path: message"). */
export function paramErrors(schema: z.ZodType, raw: unknown): string {
  const r = schema.safeParse(raw);
  assert.equal(r.success, false, 'the parameters are refused');
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** max |a - b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  return ref === 0 ? diff : diff / ref;
}

/** Helpers for the golden-fixture tests: read reference activations, compare with a relative tolerance. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAll } from '../engine/dtype.ts';
import { loadModel, type Model } from '../engine/model.ts';
import { readSafetensorsHeader, type DType } from '../engine/safetensors.ts';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
export const FIXTURE_MODELS = ['gpt2', 'llama', 'qwen2', 'neox'] as const;

/** A fixture model as the golden tests load it: GPT-2's kernel in worker threads, the others on the calling thread. */
export function loadFixtureModel(name: string): Promise<Model> {
  return loadModel(path.join(FIXTURES, name), { threads: name === 'gpt2' ? 2 : 0 });
}

export interface Reference {
  family: string;
  prepend_bos: boolean;
  prompts: { text: string; tokens: number[] }[];
  hooks: string[];
  tensors: Map<string, { data: Float32Array; shape: number[] }>;
}

export async function readReference(model: string): Promise<Reference> {
  const dir = path.join(FIXTURES, model);
  const meta = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Omit<Reference, 'tensors'>;
  const file = path.join(dir, 'reference.safetensors');
  const header = await readSafetensorsHeader(file);
  const bytes = readFileSync(file);
  const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, info] of header.tensors) {
    tensors.set(name, { data: decodeAll(info.dtype as DType, new Uint8Array(bytes.subarray(info.begin, info.end))), shape: info.shape });
  }
  return { ...meta, tensors };
}

/**
 * Relative error of `actual` against `expected`: max |a - e| over the finite entries divided by max |e|; infinite
 * entries (masked attention scores) must match exactly. Returns Infinity on a size or infinity mismatch.
 */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (!Number.isFinite(e)) {
      if (a !== e) return Infinity;
      continue;
    }
    maxDiff = Math.max(maxDiff, Math.abs(a - e));
    maxRef = Math.max(maxRef, Math.abs(e));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

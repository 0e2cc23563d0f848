import { AppError, type FieldErrors } from '../core/errors.ts';
import { loadTokenizer } from './engine/tokenizer.ts';
import { EngineError } from './index.ts';
import { parseParams, techniqueNamed } from './techniques/run-technique.ts';
import type { Technique } from './techniques/technique.ts';
import type { ModelRow } from './models/model.queries.ts';
import type { ModelShape } from './models/model.schema.ts';

/** The technique of a name, or a validation error on the `technique` field naming the ones there are. */
export function requireTechnique(name: string): Technique<unknown, unknown> {
  try {
    return techniqueNamed(name);
  } catch (error) {
    if (error instanceof EngineError) throw new AppError('validation_failed', error.message, { fields: { technique: error.message } });
    throw error;
  }
}

/** Parameters checked against the technique's schema; each problem is reported on its own `params.…` field. */
export function checkParams(technique: Technique<unknown, unknown>, raw: unknown): Record<string, unknown> {
  try {
    return parseParams(technique, raw) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    const fields: FieldErrors = {};
    for (const p of (error.details.problems as Array<{ path: string; message: string }> | undefined) ?? []) {
      const key = p.path ? `params.${p.path}` : 'params';
      if (!(key in fields)) fields[key] = p.message;
    }
    throw new AppError('validation_failed', error.message, { fields });
  }
}

/** Parameters that hold prompt text, by technique (top-level names; steering's contrast prompts are inside `vector`). */
function promptTexts(params: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of ['prompt', 'clean', 'corrupted']) {
    const v = params[key];
    if (typeof v === 'string') out.push([key, v]);
  }
  const vector = params.vector as Record<string, unknown> | undefined;
  if (vector && typeof vector === 'object') {
    for (const key of ['positive', 'negative']) {
      const v = vector[key];
      if (typeof v === 'string') out.push([`vector.${key}`, v]);
      else if (Array.isArray(v)) v.forEach((p, i) => typeof p === 'string' && out.push([`vector.${key}.${i}`, p]));
    }
  }
  return out;
}

/**
 * Refuses a prompt longer than the model's context before a job is queued (the engine would refuse it at run
 * time): tokenized with the model's own tokenizer, counting a BOS token.
 */
export function checkPromptLengths(model: Pick<ModelRow, 'path' | 'name' | 'shape'>, params: Record<string, unknown>): void {
  const texts = promptTexts(params);
  if (texts.length === 0) return;
  let tokenizer;
  try {
    tokenizer = loadTokenizer(model.path);
  } catch (error) {
    throw new AppError('conflict', `The tokenizer of ${model.name} cannot be read (${(error as Error).message}): an admin should check the model.`);
  }
  const fields: FieldErrors = {};
  for (const [key, text] of texts) {
    const n = tokenizer.encode(text).length + 1;
    if (n > model.shape.nCtx) fields[`params.${key}`] = `this prompt is ${n} tokens (with BOS); ${model.name} takes at most ${model.shape.nCtx}`;
  }
  const first = Object.values(fields)[0];
  if (first) throw new AppError('validation_failed', `A prompt is longer than the model’s context: ${first}.`, { fields });
}

/**
 * Refuses layer, head and neuron indices the model does not have before a job is queued (the technique would
 * refuse them at run time): `layer`, `layers`, `heads` (numbers, or `{ layer, head }`) and `neurons` (`{ layer, neuron }`).
 */
export function checkIndices(shape: Pick<ModelShape, 'nLayers' | 'nHeads' | 'dMlp'>, params: Record<string, unknown>): void {
  const fields: FieldErrors = {};
  const check = (key: string, value: unknown, limit: number, what: string) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= limit && !(`params.${key}` in fields)) {
      fields[`params.${key}`] = `${what} ${value} does not exist: the model has ${limit} (0 to ${limit - 1})`;
    }
  };
  check('layer', params.layer, shape.nLayers, 'layer');
  if (Array.isArray(params.layers)) params.layers.forEach((v, i) => check(`layers.${i}`, v, shape.nLayers, 'layer'));
  if (Array.isArray(params.heads)) {
    params.heads.forEach((v, i) => {
      if (typeof v === 'number') check(`heads.${i}`, v, shape.nHeads, 'head');
      else if (v && typeof v === 'object') {
        check(`heads.${i}.layer`, (v as Record<string, unknown>).layer, shape.nLayers, 'layer');
        check(`heads.${i}.head`, (v as Record<string, unknown>).head, shape.nHeads, 'head');
      }
    });
  }
  if (Array.isArray(params.neurons)) {
    params.neurons.forEach((v, i) => {
      if (!v || typeof v !== 'object') return;
      check(`neurons.${i}.layer`, (v as Record<string, unknown>).layer, shape.nLayers, 'layer');
      check(`neurons.${i}.neuron`, (v as Record<string, unknown>).neuron, shape.dMlp, 'neuron');
    });
  }
  const first = Object.values(fields)[0];
  if (first) throw new AppError('validation_failed', `The parameters name parts the model does not have: ${first}.`, { fields });
}

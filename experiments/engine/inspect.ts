/**
 * Checking a model folder without loading it: what a registry needs to accept a folder (or refuse it with the
 * reason) and to notice later that it disappeared or changed. Reads config.json, every safetensors header and the
 * tokenizer, plans the weights against the config (every tensor there, with the right shape), and hashes the
 * weight files as `loadModel` does, streaming them once without keeping them in memory.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, type ModelConfig } from './config.ts';
import { EngineError } from './errors.ts';
import { resolveModelFolder } from './load.ts';
import { readSafetensorsHeader, streamTensors, type SafetensorsHeader, type TensorInfo } from './safetensors.ts';
import { loadTokenizer } from './tokenizer.ts';
import { planWeights } from './weights.ts';

export interface ModelFolderReport {
  dir: string;
  config: ModelConfig;
  /** config.json's `architectures[0]` when present (e.g. GPT2LMHeadModel), else the model_type. */
  architecture: string;
  /** Parameters stored in the weight files (tied embeddings counted once). */
  parameters: number;
  /** Bytes of the weight files on disk. */
  weightFileBytes: number;
  weightFiles: string[];
  /** Distinct dtypes of the stored tensors (F32, F16, BF16). */
  dtypes: string[];
  tokenizerVocabSize: number;
  /** sha256 of the weights, the same value `loadModel` reports as `weightsSha256`. */
  weightsSha256: string;
}

export interface InspectOptions {
  /** Skip hashing (the cheap checks only): `weightsSha256` is then ''. */
  hash?: boolean;
}

/** Checks a model folder; throws EngineError (model_not_found, model_incomplete, corrupt_weights, tokenizer_mismatch, ...) with the reason. */
export async function inspectModelFolder(dir: string, opts: InspectOptions = {}): Promise<ModelFolderReport> {
  const { rawConfig, weightFiles } = resolveModelFolder(dir);
  const config = parseConfig(rawConfig);
  const headers: SafetensorsHeader[] = [];
  for (const f of weightFiles) headers.push(await readSafetensorsHeader(f));
  const tensors = new Map<string, TensorInfo>();
  for (const h of headers) for (const [k, v] of h.tensors) tensors.set(k, v);
  let tokenizerVocabSize: number;
  try {
    tokenizerVocabSize = loadTokenizer(dir).vocabSize;
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('model_incomplete', `The tokenizer in ${dir} could not be read: ${(error as Error).message}`, { dir });
  }
  if (tokenizerVocabSize > config.dVocab) {
    throw new EngineError(
      'tokenizer_mismatch',
      `The tokenizer has ids up to ${tokenizerVocabSize - 1} but the model's vocabulary (config.json vocab_size) has only ${config.dVocab} rows: the tokenizer does not belong to these weights.`,
      { tokenizerSize: tokenizerVocabSize, vocabSize: config.dVocab },
    );
  }
  // Throws corrupt_weights naming a missing tensor or a shape that does not fit the config.
  planWeights(config, tensors);
  let parameters = 0;
  for (const t of tensors.values()) parameters += t.shape.reduce((a, b) => a * b, 1);
  let weightFileBytes = 0;
  for (const f of weightFiles) weightFileBytes += (await stat(f)).size;
  const weightsSha256 = opts.hash === false ? '' : await streamTensors(headers, () => null);
  const architectures = rawConfig.architectures;
  return {
    dir: path.resolve(dir),
    config,
    architecture: Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : config.modelType,
    parameters,
    weightFileBytes,
    weightFiles: weightFiles.map((f) => path.basename(f)),
    dtypes: [...new Set([...tensors.values()].map((t) => t.dtype))].sort(),
    tokenizerVocabSize,
    weightsSha256,
  };
}

/**
 * Checking a model folder without loading it: what a registry needs to accept a folder (or refuse it with the
 * reason) and to notice later that it disappeared or changed: the checks `loadModel` makes before reading tensor data
 * (readModelFolder), then the weight files hashed as `loadModel` does, streamed once without keeping them in memory.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelConfig } from './config.ts';
import { readModelFolder } from './load.ts';
import { streamTensors } from './safetensors.ts';

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
  const { rawConfig, weightFiles, config, headers, tensors, tokenizer } = await readModelFolder(dir);
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
    tokenizerVocabSize: tokenizer.vocabSize,
    weightsSha256,
  };
}

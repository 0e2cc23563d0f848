/**
 * Loading a model folder in Hugging Face layout: config.json, model.safetensors (or shards listed in
 * model.safetensors.index.json) and the tokenizer. Nothing is ever downloaded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type ModelConfig } from './config.ts';
import { bytesPerElement } from './dtype.ts';
import { EngineError } from './errors.ts';
import { Arena, type Mat } from './kernels/arena.ts';
import { checkMemory } from './memory.ts';
import { readSafetensorsHeader, streamTensors, type DType, type SafetensorsHeader, type TensorInfo, type TensorSink } from './safetensors.ts';
import { loadTokenizer, type BpeTokenizer } from './tokenizer.ts';
import { buildVector, planWeights, transformInto, type LayerWeights, type NormWeights, type Weights } from './weights.ts';

export interface LoadedParts {
  dir: string;
  config: ModelConfig;
  rawConfig: Record<string, unknown>;
  tokenizer: BpeTokenizer;
  weights: Weights;
  arena: Arena;
  /** sha256 of the weights: of model.safetensors, or of the shards' bytes concatenated in file-name order. */
  weightsSha256: string;
  weightFiles: string[];
}

/** Reads config.json, checks the folder (not a hub id), finds the weight files. */
export function resolveModelFolder(dir: string): { rawConfig: Record<string, unknown>; weightFiles: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    if (!path.isAbsolute(dir) && /^[\w.-]+\/[\w.-]+$/.test(dir) && !dir.startsWith('.')) {
      throw new EngineError(
        'model_not_found',
        `"${dir}" looks like a Hugging Face hub id, but nothing is downloaded here: place the model folder locally ` +
          `(config.json, model.safetensors, tokenizer.json) and pass its path.`,
        { dir },
      );
    }
    throw new EngineError('model_not_found', `There is no model folder at ${dir}.`, { dir });
  }
  const configPath = path.join(dir, 'config.json');
  if (!existsSync(configPath)) throw new EngineError('model_incomplete', `The model folder ${dir} has no config.json.`, { dir });
  let rawConfig: Record<string, unknown>;
  try {
    rawConfig = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new EngineError('model_incomplete', `${configPath} is not valid JSON.`, { dir });
  }
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  let weightFiles: string[];
  if (existsSync(single)) weightFiles = [single];
  else if (existsSync(index)) {
    let map: Record<string, string>;
    try {
      map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    } catch {
      throw new EngineError('corrupt_weights', `${index} is not valid JSON with a weight_map.`, { dir });
    }
    weightFiles = [...new Set(Object.values(map ?? {}))].sort().map((f) => path.join(dir, f));
    const missing = weightFiles.filter((f) => !existsSync(f));
    if (missing.length) throw new EngineError('model_incomplete', `The shards ${missing.map((f) => path.basename(f)).join(', ')} listed in ${index} are missing.`, { dir });
  } else {
    const bin = readdirSync(dir).some((f) => f.endsWith('.bin') || f.endsWith('.pt'));
    throw new EngineError(
      'model_incomplete',
      `The model folder ${dir} has no weights: expected model.safetensors, or shards with model.safetensors.index.json` +
        (bin ? ' (PyTorch .bin/.pt checkpoints are not read: convert them to safetensors).' : '.'),
      { dir },
    );
  }
  return { rawConfig, weightFiles };
}

export interface LoadPartsOptions {
  /** Memory the load may use, in bytes (default: what the machine has free). */
  memoryLimitBytes?: number;
}

/** What a model folder holds, read and checked without its tensor data: config, headers, tokenizer, the weight plan. */
export interface ModelFolderParts {
  rawConfig: Record<string, unknown>;
  weightFiles: string[];
  config: ModelConfig;
  headers: SafetensorsHeader[];
  tensors: Map<string, TensorInfo>;
  tokenizer: BpeTokenizer;
  plan: ReturnType<typeof planWeights>;
}

/**
 * Reads a model folder's config, every safetensors header and the tokenizer, and plans the weights against the
 * config; throws EngineError with the reason (no folder, incomplete, corrupt headers, a tokenizer with more ids
 * than the vocabulary, a missing tensor or a wrong shape). Shared by loading and by the registry's check.
 */
export async function readModelFolder(dir: string): Promise<ModelFolderParts> {
  const { rawConfig, weightFiles } = resolveModelFolder(dir);
  const config = parseConfig(rawConfig);
  const headers: SafetensorsHeader[] = [];
  for (const f of weightFiles) headers.push(await readSafetensorsHeader(f));
  const tensors = new Map<string, TensorInfo>();
  for (const h of headers) for (const [k, v] of h.tensors) tensors.set(k, v);
  let tokenizer: BpeTokenizer;
  try {
    tokenizer = loadTokenizer(dir);
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('model_incomplete', `The tokenizer in ${dir} could not be read: ${(error as Error).message}`, { dir });
  }
  if (tokenizer.vocabSize > config.dVocab) {
    throw new EngineError(
      'tokenizer_mismatch',
      `The tokenizer has ids up to ${tokenizer.vocabSize - 1} but the model's vocabulary (config.json vocab_size) has only ${config.dVocab} rows: the tokenizer does not belong to these weights.`,
      { tokenizerSize: tokenizer.vocabSize, vocabSize: config.dVocab },
    );
  }
  const plan = planWeights(config, tensors);
  return { rawConfig, weightFiles, config, headers, tensors, tokenizer, plan };
}

export async function loadParts(dir: string, opts: LoadPartsOptions = {}): Promise<LoadedParts> {
  const { rawConfig, weightFiles, config, headers, tensors, tokenizer, plan } = await readModelFolder(dir);

  const dtypeOf = (names: string[]): DType => {
    const dts = new Set(names.map((n) => tensors.get(n)!.dtype));
    if (dts.size !== 1) throw new EngineError('corrupt_weights', `Tensors ${names.join(', ')} have mixed dtypes (${[...dts].join(', ')}).`);
    return [...dts][0] as DType;
  };
  const matDtypes = plan.mats.map((m) => dtypeOf(m.parts.map((p) => p.tensor)));
  const totalBytes = plan.mats.reduce((s, m, i) => s + Math.ceil((m.rows * m.cols * bytesPerElement(matDtypes[i]!)) / 64) * 64, 0);
  const largestTemp = Math.max(0, ...[...tensors.values()].map((t) => t.end - t.begin));
  checkMemory(`Loading ${path.basename(dir)}`, totalBytes + largestTemp + (64 << 20), opts.memoryLimitBytes);

  const arena = Arena.create(totalBytes);
  const mats = new Map<string, Mat>();
  // Each tensor's sink is made when its bytes start arriving: a tensor to rearrange gets a temporary buffer then.
  const sinkMakers = new Map<string, () => TensorSink>();
  plan.mats.forEach((m, i) => {
    const dtype = matDtypes[i]!;
    const es = bytesPerElement(dtype);
    const offset = arena.allocWeights(m.rows * m.cols * es);
    mats.set(m.key, { dtype, rows: m.rows, cols: m.cols, offset, ld: m.cols });
    for (const part of m.parts) {
      const info = tensors.get(part.tensor)!;
      const destOffset = offset + part.rowOffset * m.cols * es;
      const size = info.end - info.begin;
      if (part.transform === 'none') sinkMakers.set(part.tensor, () => ({ dest: arena.bytes(destOffset, size) }));
      else {
        sinkMakers.set(part.tensor, () => {
          const temp = new Uint8Array(size);
          return { dest: temp, done: () => transformInto(temp, arena.bytes(destOffset, size), part.shape, part.transform, es, config) };
        });
      }
    }
  });
  arena.seal();
  const raw = new Map<string, { dtype: DType; bytes: Uint8Array }>();
  for (const v of plan.vecs) {
    for (const part of v.parts) {
      const info = tensors.get(part.tensor)!;
      sinkMakers.set(part.tensor, () => {
        const bytes = new Uint8Array(info.end - info.begin);
        raw.set(part.tensor, { dtype: info.dtype as DType, bytes });
        return { dest: bytes };
      });
    }
  }
  const weightsSha256 = await streamTensors(headers, (info) => sinkMakers.get(info.name)?.() ?? null, createHash('sha256'));

  const vecs = new Map<string, Float32Array | null>();
  for (const v of plan.vecs) vecs.set(v.key, buildVector(v, raw, config));
  const vec = (k: string) => vecs.get(k) ?? null;
  const norm = (k: string): NormWeights => ({ w: vec(`${k}.w`)!, b: vec(`${k}.b`) });
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    layers.push({
      ln1: norm(`${l}.ln1`),
      ln2: norm(`${l}.ln2`),
      qkv: mats.get(`${l}.qkv`)!,
      qkvBias: vec(`${l}.qkv.b`),
      o: mats.get(`${l}.o`)!,
      oBias: vec(`${l}.o.b`),
      mlpIn: mats.get(`${l}.mlpIn`)!,
      mlpInBias: vec(`${l}.mlpIn.b`),
      mlpOut: mats.get(`${l}.mlpOut`)!,
      mlpOutBias: vec(`${l}.mlpOut.b`),
    });
  }
  const embed = mats.get('embed')!;
  const weights: Weights = {
    embed,
    pos: mats.get('pos') ?? null,
    layers,
    lnFinal: norm('lnF'),
    unembed: plan.tied ? embed : mats.get('unembed')!,
    unembedBias: null,
    dtype: embed.dtype,
  };
  return { dir, config, rawConfig, tokenizer, weights, arena, weightsSha256, weightFiles };
}

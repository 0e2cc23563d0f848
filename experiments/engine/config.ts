/**
 * config.json -> the engine's architecture description. Three families are supported; everything the forward pass
 * needs is normalised here so the forward pass never reads raw Hugging Face keys.
 */
import { EngineError } from './errors.ts';

export type Family = 'gpt2' | 'llama' | 'neox';

/** Hugging Face `model_type` values the engine runs, and the family each belongs to. */
export const SUPPORTED_MODEL_TYPES: Record<string, Family> = {
  gpt2: 'gpt2',
  llama: 'llama', // Llama 1-3, SmolLM, TinyLlama
  mistral: 'llama',
  qwen2: 'llama',
  gpt_neox: 'neox', // Pythia
};

export const SUPPORTED_ARCHITECTURES_TEXT =
  'GPT-2 (gpt2), Llama family (llama, mistral, qwen2; also SmolLM and TinyLlama, which are llama) and GPT-NeoX (gpt_neox, Pythia)';

export type Activation = 'gelu_new' | 'gelu' | 'silu' | 'relu';

export interface RopeScaling {
  type: 'linear' | 'llama3';
  factor: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

export interface ModelConfig {
  family: Family;
  /** Raw `model_type` from config.json. */
  modelType: string;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (grouped-query attention); equals nHeads without GQA. */
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  /** Rows of the embedding matrix (config `vocab_size`). */
  dVocab: number;
  /** Longest prompt the model accepts. */
  nCtx: number;
  normType: 'layernorm' | 'rmsnorm';
  normEps: number;
  act: Activation;
  gatedMlp: boolean;
  positional: 'learned' | 'rotary';
  /** Dimensions of each head that get rotary embeddings (NeoX: rotary_pct * dHead). */
  rotaryDim: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  parallelResidual: boolean;
  tiedEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** TransformerLens' default for prepend_bos (false for NeoX/Pythia). */
  defaultPrependBos: boolean;
}

type Raw = Record<string, unknown>;

function num(raw: Raw, keys: string[], fallback?: number): number {
  for (const k of keys) if (typeof raw[k] === 'number') return raw[k] as number;
  if (fallback !== undefined) return fallback;
  throw new EngineError('model_incomplete', `config.json has no ${keys.join(' or ')}.`);
}

function firstId(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return null;
}

function activation(name: unknown): Activation {
  switch (name) {
    case 'gelu_new': case 'gelu_pytorch_tanh': case 'gelu_fast':
      return 'gelu_new';
    case 'gelu':
      return 'gelu';
    case 'silu': case 'swish':
      return 'silu';
    case 'relu':
      return 'relu';
    default:
      throw new EngineError('unsupported_architecture', `The activation function ${JSON.stringify(name)} is not supported (gelu_new, gelu, silu, relu).`);
  }
}

function ropeScaling(raw: unknown): RopeScaling | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Raw;
  const type = (r.rope_type ?? r.type) as string;
  if (type === 'default') return null;
  if (type === 'linear') return { type, factor: r.factor as number };
  if (type === 'llama3') {
    return {
      type,
      factor: r.factor as number,
      lowFreqFactor: r.low_freq_factor as number,
      highFreqFactor: r.high_freq_factor as number,
      originalMaxPositionEmbeddings: r.original_max_position_embeddings as number,
    };
  }
  throw new EngineError('unsupported_architecture', `rope_scaling of type ${JSON.stringify(type)} is not supported (linear, llama3).`);
}

/** Normalises a parsed config.json; throws `unsupported_architecture` naming the supported families. */
export function parseConfig(raw: Raw): ModelConfig {
  const modelType = String(raw.model_type ?? '');
  const family = SUPPORTED_MODEL_TYPES[modelType];
  if (!family) {
    const arch = Array.isArray(raw.architectures) ? ` (${(raw.architectures as string[]).join(', ')})` : '';
    throw new EngineError(
      'unsupported_architecture',
      `The model type ${JSON.stringify(modelType || 'missing')}${arch} is not supported. Supported: ${SUPPORTED_ARCHITECTURES_TEXT}.`,
      { modelType },
    );
  }
  const bos = firstId(raw.bos_token_id);
  const eos = firstId(raw.eos_token_id);
  if (family === 'gpt2') {
    const d = num(raw, ['n_embd']);
    const nHeads = num(raw, ['n_head']);
    return {
      family, modelType, dModel: d, nLayers: num(raw, ['n_layer']), nHeads, nKvHeads: nHeads, dHead: d / nHeads,
      dMlp: num(raw, ['n_inner'], 4 * d), dVocab: num(raw, ['vocab_size']), nCtx: num(raw, ['n_positions', 'n_ctx']),
      normType: 'layernorm', normEps: num(raw, ['layer_norm_epsilon'], 1e-5), act: activation(raw.activation_function ?? 'gelu_new'),
      gatedMlp: false, positional: 'learned', rotaryDim: 0, ropeTheta: 0, ropeScaling: null, parallelResidual: false,
      tiedEmbeddings: true, bosTokenId: bos, eosTokenId: eos, defaultPrependBos: true,
    };
  }
  const d = num(raw, ['hidden_size']);
  const nHeads = num(raw, ['num_attention_heads']);
  const dHead = num(raw, ['head_dim'], d / nHeads);
  if (family === 'neox') {
    return {
      family, modelType, dModel: d, nLayers: num(raw, ['num_hidden_layers']), nHeads, nKvHeads: nHeads, dHead,
      dMlp: num(raw, ['intermediate_size']), dVocab: num(raw, ['vocab_size']), nCtx: num(raw, ['max_position_embeddings']),
      normType: 'layernorm', normEps: num(raw, ['layer_norm_eps'], 1e-5), act: activation(raw.hidden_act ?? 'gelu'),
      gatedMlp: false, positional: 'rotary', rotaryDim: Math.floor(dHead * num(raw, ['rotary_pct', 'partial_rotary_factor'], 1)),
      ropeTheta: num(raw, ['rotary_emb_base', 'rope_theta'], 10000), ropeScaling: ropeScaling(raw.rope_scaling),
      parallelResidual: raw.use_parallel_residual !== false, tiedEmbeddings: raw.tie_word_embeddings === true,
      bosTokenId: bos, eosTokenId: eos, defaultPrependBos: false,
    };
  }
  return {
    family, modelType, dModel: d, nLayers: num(raw, ['num_hidden_layers']), nHeads,
    nKvHeads: num(raw, ['num_key_value_heads'], nHeads), dHead, dMlp: num(raw, ['intermediate_size']),
    dVocab: num(raw, ['vocab_size']), nCtx: num(raw, ['max_position_embeddings']), normType: 'rmsnorm',
    normEps: num(raw, ['rms_norm_eps'], 1e-6), act: activation(raw.hidden_act ?? 'silu'), gatedMlp: true,
    positional: 'rotary', rotaryDim: dHead, ropeTheta: num(raw, ['rope_theta'], 10000), ropeScaling: ropeScaling(raw.rope_scaling),
    parallelResidual: false, tiedEmbeddings: raw.tie_word_embeddings === true, bosTokenId: bos, eosTokenId: eos,
    defaultPrependBos: true,
  };
}

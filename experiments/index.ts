/**
 * The interpretability engine's public API (see experiments/README.md). Everything the CLI, the techniques and the
 * product use is exported here; import from this file, not from engine/ internals.
 */
export { loadModel, Model, meanNextTokenLoss } from './engine/model.ts';
export type { Prompt, PromptOptions, HookFn, HookContext, Hooks, CacheSelection, RunOptions, RunResult, LoadOptions } from './engine/model.ts';
export { KvCache } from './engine/kv-cache.ts';
export { inspectModelFolder } from './engine/inspect.ts';
export type { ModelFolderReport, InspectOptions } from './engine/inspect.ts';
export { hookNames, hookShape, hookLayer, tensor } from './engine/hooks.ts';
export type { Tensor } from './engine/hooks.ts';
export { EngineError, formatBytes } from './engine/errors.ts';
export type { EngineErrorId } from './engine/errors.ts';
export { SUPPORTED_MODEL_TYPES, SUPPORTED_ARCHITECTURES_TEXT } from './engine/config.ts';
export type { ModelConfig, Family } from './engine/config.ts';
export { BpeTokenizer, loadTokenizer } from './engine/tokenizer.ts';
export { availableMemoryBytes, checkMemory } from './engine/memory.ts';
export { writeRandomGpt2, GPT2_SMALL } from './engine/testing/random-model.ts';
export type { Gpt2Shape } from './engine/testing/random-model.ts';

/** The engine's version, recorded in every result document. */
export const ENGINE_VERSION = '0.1.0';

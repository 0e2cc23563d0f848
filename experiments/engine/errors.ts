/**
 * Errors the engine raises for bad input. Each has a stable `id` (so the CLI and the product can map it, e.g. to an
 * HTTP status, without parsing messages) and a message a person can act on. The engine imports nothing from the
 * rest of Menagerie, so this is its own small error type rather than core's AppError.
 */
export type EngineErrorId =
  | 'model_not_found' // no folder, or a hub id where a local folder is needed
  | 'model_incomplete' // config.json, weights or tokenizer missing
  | 'unsupported_architecture'
  | 'corrupt_weights' // safetensors header/file-size/dtype problems, missing tensors
  | 'tokenizer_mismatch' // tokenizer ids do not fit the model's vocabulary
  | 'unsupported_tokenizer'
  | 'prompt_too_long'
  | 'insufficient_memory'
  | 'invalid_input'; // bad tokens, unknown hook names, wrong replacement shapes, ...

export class EngineError extends Error {
  readonly id: EngineErrorId;
  readonly details: Record<string, unknown>;
  constructor(id: EngineErrorId, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'EngineError';
    this.id = id;
    this.details = details;
  }
}

/** Human-readable byte count (GB with two decimals above 1 GB, else MB), used in memory messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

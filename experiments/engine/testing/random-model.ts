/**
 * Writes a random-weight GPT-2-shaped model in Hugging Face layout (config.json, model.safetensors, vocab.json,
 * merges.txt), for benchmarks and memory tests: nothing is downloaded. The tokenizer is byte-level with no merges
 * (256 byte tokens plus <|endoftext|> as the last id), enough to turn text into valid ids.
 */
import { mkdirSync, openSync, closeSync, writeSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Gpt2Shape {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dVocab: number;
  nCtx: number;
}

/** GPT-2 small's shape: 12 layers, d_model 768, 12 heads, vocabulary 50257, context 1024. */
export const GPT2_SMALL: Gpt2Shape = { nLayers: 12, dModel: 768, nHeads: 12, dVocab: 50257, nCtx: 1024 };

function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(bs.includes(b) ? b : 256 + n++));
}

/** Writes the model into `dir` (created if needed) with a seeded xorshift generator; returns the weights' byte size. */
export function writeRandomGpt2(dir: string, shape: Gpt2Shape = GPT2_SMALL, seed = 1): number {
  mkdirSync(dir, { recursive: true });
  const { nLayers, dModel: d, nHeads, dVocab: V, nCtx } = shape;
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: V, n_embd: d, n_head: nHeads, n_layer: nLayers,
      n_positions: nCtx, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', bos_token_id: V - 1, eos_token_id: V - 1,
    }),
  );
  const chars = bytesToUnicode();
  const vocab: Record<string, number> = Object.fromEntries(chars.map((c, i) => [c, i]));
  vocab['<|endoftext|>'] = V - 1;
  writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\n');

  const tensors: [string, number[], 'randn' | 'ones' | 'zeros', number][] = [
    ['wte.weight', [V, d], 'randn', 0.02],
    ['wpe.weight', [nCtx, d], 'randn', 0.01],
  ];
  for (let l = 0; l < nLayers; l++) {
    const h = `h.${l}.`;
    tensors.push(
      [`${h}ln_1.weight`, [d], 'ones', 0], [`${h}ln_1.bias`, [d], 'zeros', 0],
      [`${h}attn.c_attn.weight`, [d, 3 * d], 'randn', 0.02], [`${h}attn.c_attn.bias`, [3 * d], 'zeros', 0],
      [`${h}attn.c_proj.weight`, [d, d], 'randn', 0.02], [`${h}attn.c_proj.bias`, [d], 'zeros', 0],
      [`${h}ln_2.weight`, [d], 'ones', 0], [`${h}ln_2.bias`, [d], 'zeros', 0],
      [`${h}mlp.c_fc.weight`, [d, 4 * d], 'randn', 0.02], [`${h}mlp.c_fc.bias`, [4 * d], 'zeros', 0],
      [`${h}mlp.c_proj.weight`, [4 * d, d], 'randn', 0.02], [`${h}mlp.c_proj.bias`, [d], 'zeros', 0],
    );
  }
  tensors.push(['ln_f.weight', [d], 'ones', 0], ['ln_f.bias', [d], 'zeros', 0]);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shp] of tensors) {
    const bytes = shp.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape: shp, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = openSync(path.join(dir, 'model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, len);
    writeSync(fd, json);
    let state = seed >>> 0 || 1;
    const chunk = new Float32Array(1 << 20);
    for (const [, shp, kind, std] of tensors) {
      let left = shp.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        for (let i = 0; i < n; i++) {
          if (kind === 'randn') {
            // Sum of 4 uniforms: roughly normal, cheap; variance 4/12.
            let s = 0;
            for (let k = 0; k < 4; k++) {
              state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
              s += state / 4294967296;
            }
            chunk[i] = (s - 2) * std * Math.sqrt(3);
          } else chunk[i] = kind === 'ones' ? 1 : 0;
        }
        writeSync(fd, new Uint8Array(chunk.buffer, 0, n * 4));
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return offset;
}

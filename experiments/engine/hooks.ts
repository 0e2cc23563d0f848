/**
 * Hook points, named as in TransformerLens (TL). Activations are single sequences: TL's leading batch dimension is
 * dropped, so `blocks.0.attn.hook_q` is [pos, head, d_head] here where TL has [batch, pos, head, d_head].
 */
import type { ModelConfig } from './config.ts';

/** A row-major float32 array with its shape. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export function tensor(data: Float32Array, shape: number[]): Tensor {
  return { data, shape };
}

/** Every hook name a model of this config has, in the order the forward pass reaches them. */
export function hookNames(cfg: ModelConfig): string[] {
  const names = ['hook_embed'];
  if (cfg.positional === 'learned') names.push('hook_pos_embed');
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}`;
    names.push(`${b}.hook_resid_pre`, `${b}.ln1.hook_scale`, `${b}.ln1.hook_normalized`);
    names.push(`${b}.attn.hook_q`, `${b}.attn.hook_k`, `${b}.attn.hook_v`);
    if (cfg.positional === 'rotary') names.push(`${b}.attn.hook_rot_q`, `${b}.attn.hook_rot_k`);
    names.push(`${b}.attn.hook_attn_scores`, `${b}.attn.hook_pattern`, `${b}.attn.hook_z`, `${b}.attn.hook_result`, `${b}.hook_attn_out`);
    if (!cfg.parallelResidual) names.push(`${b}.hook_resid_mid`);
    names.push(`${b}.ln2.hook_scale`, `${b}.ln2.hook_normalized`, `${b}.mlp.hook_pre`);
    if (cfg.gatedMlp) names.push(`${b}.mlp.hook_pre_linear`);
    names.push(`${b}.mlp.hook_post`, `${b}.hook_mlp_out`, `${b}.hook_resid_post`);
  }
  names.push('ln_final.hook_scale', 'ln_final.hook_normalized');
  return names;
}

/**
 * The shape of a hook's activation for a run over `nPos` query positions (`nKeys` key positions, which differ only
 * when earlier positions come from a key/value cache).
 */
export function hookShape(cfg: ModelConfig, name: string, nPos: number, nKeys = nPos): number[] {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  const { dModel, nHeads, nKvHeads, dHead, dMlp } = cfg;
  if (name.startsWith('blocks.') && name.includes('.mlp.')) return [nPos, dMlp];
  switch (leaf) {
    case 'hook_scale':
      return [nPos, 1];
    case 'hook_q':
    case 'hook_rot_q':
    case 'hook_z':
      return [nPos, nHeads, dHead];
    case 'hook_k':
    case 'hook_v':
    case 'hook_rot_k':
      return [nPos, nKvHeads, dHead];
    case 'hook_attn_scores':
    case 'hook_pattern':
      return [nHeads, nPos, nKeys];
    case 'hook_result':
      return [nPos, nHeads, dModel];
    default:
      return [nPos, dModel];
  }
}

/** The layer a hook belongs to (null for embeddings and ln_final). */
export function hookLayer(name: string): number | null {
  const m = /^blocks\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
}

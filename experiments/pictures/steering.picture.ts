/**
 * `steering`: the continuation without and with steering side by side, the tokens that differ marked (<del> in the
 * unsteered text, <ins> in the steered one, from a longest-common-subsequence alignment of the token ids), and a
 * table of both continuations' tokens with their log-probabilities.
 */
import { type SteeringResult, steeringTechnique } from '../techniques/steering.ts';
import type { Continuation } from '../techniques/generate.ts';
import type { Presenter } from './picture.ts';
import { num, plural, quoted, signed, tokenLabel } from './scale.ts';
import { table, td, th, tx } from './table.ts';

/** Tokens shown and aligned per continuation. */
export const MAX_DIFF_TOKENS = 512;

export interface Segment { text: string; changed: boolean; title: string }

/** Which tokens of a and b are in a longest common subsequence (by id). */
export function alignTokens(a: number[], b: number[]): { inA: boolean[]; inB: boolean[] } {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const inA = new Array<boolean>(n).fill(false);
  const inB = new Array<boolean>(m).fill(false);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      inA[i++] = true;
      inB[j++] = true;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return { inA, inB };
}

/** Consecutive tokens with the same state joined into one segment. */
function segments(c: Continuation, kept: boolean[], count: number, changedWord: string): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < count; i++) {
    const changed = !kept[i];
    const text = c.token_strings[i] ?? '';
    const last = out[out.length - 1];
    if (last && last.changed === changed) {
      last.text += text;
    } else {
      out.push({ text, changed, title: changed ? changedWord : '' });
    }
  }
  return out;
}

export const steeringPicture: Presenter<SteeringResult> = {
  technique: steeringTechnique,
  present(r, ctx) {
    const a = r.baseline.tokens.slice(0, MAX_DIFF_TOKENS);
    const b = r.steered.tokens.slice(0, MAX_DIFF_TOKENS);
    const { inA, inB } = alignTokens(a, b);
    const notes: string[] = [];
    if (r.baseline.tokens.length > MAX_DIFF_TOKENS || r.steered.tokens.length > MAX_DIFF_TOKENS) {
      notes.push(`Only the first ${MAX_DIFF_TOKENS} new tokens of each continuation are shown and compared.`);
    }
    const changedA = inA.filter((x) => !x).length;
    const changedB = inB.filter((x) => !x).length;
    const n = Math.max(a.length, b.length);
    const rows = Array.from({ length: n }, (_, i) => {
      const same = a[i] !== undefined && a[i] === b[i];
      return [
        th(String(i)),
        tx(a[i] === undefined ? '' : tokenLabel(r.baseline.token_strings[i] ?? '', 24), { title: a[i] === undefined ? '' : `${quoted(r.baseline.token_strings[i] ?? '')} (id ${a[i]})` }),
        td(a[i] === undefined ? '' : num(r.baseline.logprobs[i])),
        tx(b[i] === undefined ? '' : tokenLabel(r.steered.token_strings[i] ?? '', 24), { title: b[i] === undefined ? '' : `${quoted(r.steered.token_strings[i] ?? '')} (id ${b[i]})` }),
        td(b[i] === undefined ? '' : num(r.steered.logprobs[i])),
        tx(same ? 'same' : 'differs', { cls: same ? 'pic-same' : 'pic-differs' }),
      ];
    });
    const tokens = table(
      'The new tokens of both continuations, index by index, with their log-probabilities under the model',
      [{ text: 'index', num: true }, { text: 'unsteered token' }, { text: 'log-prob', num: true }, { text: 'steered token' }, { text: 'log-prob', num: true }, { text: 'same?' }],
      rows,
    );
    const vectorWords = r.vector.kind === 'given'
      ? 'a given vector'
      : `${r.vector.kind === 'contrast' ? 'the difference of a contrast pair' : `the difference of the means of ${plural(r.vector.positive_prompts, 'positive prompt')} and ${plural(r.vector.negative_prompts, 'negative prompt')}`}${r.vector.reduce ? ` (${r.vector.reduce === 'last' ? 'last position' : 'mean over positions'})` : ''}`;
    const first = r.first_difference
      ? `The continuations first differ at new token ${r.first_difference.index} (sequence position ${r.first_difference.position}).`
      : 'The two continuations are identical.';
    return {
      partial: 'experiments/steering',
      view: {
        id: ctx.id,
        prompt: r.prompt_text,
        baseline: segments(r.baseline, inA, a.length, 'not in the steered continuation'),
        steered: segments(r.steered, inB, b.length, 'not in the unsteered continuation'),
        baselineStop: r.baseline.stop_reason.replace(/_/g, ' '),
        steeredStop: r.steered.stop_reason.replace(/_/g, ' '),
        changed: `${plural(changedA, 'token')} of the unsteered continuation and ${plural(changedB, 'token')} of the steered one are not in both.`,
        first,
        hook: r.hook_name,
        coefficient: String(r.coefficient),
        fromPosition: r.from_position,
        vector: vectorWords,
        norm: num(r.vector.norm),
        sampling: `temperature ${r.sampling.temperature}${r.sampling.top_k ? `, top-k ${r.sampling.top_k}` : ''}${r.sampling.top_p < 1 ? `, top-p ${r.sampling.top_p}` : ''}, seed ${r.sampling.seed}, at most ${r.sampling.max_new_tokens} new tokens`,
        tokens,
        notes,
      },
      caption: `Steering at ${r.hook_name} with coefficient ${r.coefficient}: ${r.first_difference ? `the continuation changes from new token ${r.first_difference.index}` : 'no change in the continuation'}`,
    };
  },
};

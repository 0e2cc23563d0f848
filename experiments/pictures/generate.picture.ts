/**
 * `generate`: the prompt and its continuation, a bar per new token for the probability the model gave it, and a
 * table of the new tokens with their log-probabilities.
 */
import { type GenerateResult, generateTechnique } from '../techniques/generate.ts';
import { bars } from './bars.ts';
import type { Presenter } from './picture.ts';
import { MAX_AXIS, num, plural, quoted, tokenLabel } from './scale.ts';
import { table, td, th, tx } from './table.ts';

const MAX_ROWS = 512;

export const generatePicture: Presenter<GenerateResult> = {
  technique: generateTechnique,
  present(r, ctx) {
    const c = r.continuation;
    const n = c.tokens.length;
    const shown = Math.min(n, MAX_AXIS);
    const chart = shown
      ? bars({
        id: `${ctx.id}-bars`,
        title: `Probability the model gave each of the ${plural(shown, 'new token')}${n > shown ? ` (the first ${shown} of ${n})` : ''}, before temperature and sampling limits`,
        items: Array.from({ length: shown }, (_, i) => ({
          label: `${i} ${tokenLabel(c.token_strings[i] ?? '', 14)}`,
          title: `new token ${i}: ${quoted(c.token_strings[i] ?? '')} (id ${c.tokens[i]}), probability ${num(Math.exp(c.logprobs[i] ?? -Infinity), 4)}`,
          value: Math.exp(c.logprobs[i] ?? -Infinity),
        })),
        signed: false,
        domainMax: 1,
        axisLabel: 'probability',
      })
      : null;
    const rows = Array.from({ length: Math.min(n, MAX_ROWS) }, (_, i) => [
      th(String(i)),
      tx(tokenLabel(c.token_strings[i] ?? '', 24), { title: quoted(c.token_strings[i] ?? '') }),
      td(String(c.tokens[i])),
      td(num(c.logprobs[i])),
      td(num(Math.exp(c.logprobs[i] ?? -Infinity))),
    ]);
    const tokens = table(
      'The new tokens with the log-probability and probability the model gave them',
      [{ text: 'index', num: true }, { text: 'token' }, { text: 'id', num: true }, { text: 'log-prob', num: true }, { text: 'probability', num: true }],
      rows,
      { note: n > MAX_ROWS ? `The table lists the first ${MAX_ROWS} of ${plural(n, 'new token')}.` : '' },
    );
    const s = r.sampling;
    return {
      partial: 'experiments/generate',
      view: {
        id: ctx.id,
        prompt: r.prompt_text,
        continuation: c.text,
        stop: { eos: 'the end-of-sequence token', max_new_tokens: 'the token limit', context: "the model's context length" }[c.stop_reason],
        sampling: s.temperature === 0 ? `greedy (temperature 0), at most ${s.max_new_tokens} new tokens` : `temperature ${s.temperature}${s.top_k ? `, top-k ${s.top_k}` : ''}${s.top_p < 1 ? `, top-p ${s.top_p}` : ''}, seed ${s.seed}, at most ${s.max_new_tokens} new tokens`,
        count: plural(n, 'new token'),
        meanLogprob: n ? num(c.logprobs.reduce((a, b) => a + b, 0) / n) : '—',
        chart,
        chartNote: n > shown ? `The chart shows the first ${shown} of ${plural(n, 'new token')}.` : '',
        tokens,
      },
      caption: `Generated ${plural(n, 'new token')} (${s.temperature === 0 ? 'greedy' : `temperature ${s.temperature}`})`,
    };
  },
};

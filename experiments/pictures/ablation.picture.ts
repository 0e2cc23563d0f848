/**
 * `ablation`: the metric before and after ablating everything together, and a bar per change (all together, then
 * each unit alone when the run did that), negative changes hatched and signed.
 */
import { type AblationResult, ablationTechnique } from '../techniques/ablation.ts';
import { bars } from './bars.ts';
import type { Presenter } from './picture.ts';
import { num, plural, quoted, signed } from './scale.ts';
import { table, td, th } from './table.ts';

const MAX_BARS = 40;
const MAX_ROWS = 300;

export const ablationPicture: Presenter<AblationResult> = {
  technique: ablationTechnique,
  present(r, ctx) {
    const metric = r.metric.kind === 'loss'
      ? 'mean next-token loss'
      : `logit difference ${quoted(r.metric.answer?.text ?? '?')} − ${quoted(r.metric.wrong?.text ?? '?')}${r.metric.position === null ? '' : ` at position ${r.metric.position}`}`;
    const individual = [...(r.individual ?? [])].sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
    const items = [
      { label: 'all together', title: `everything ablated together: ${metric} ${num(r.before)} → ${num(r.after)} (${signed(r.delta)})`, value: r.delta },
      ...individual.slice(0, MAX_BARS - 1).map((x) => ({ label: x.label, title: `${x.label} alone: ${metric} ${num(r.before)} → ${num(x.after)} (${signed(x.delta)})`, value: x.delta })),
    ];
    const chart = bars({
      id: `${ctx.id}-bars`,
      title: `Change of the ${metric} when ablating (after − before)${individual.length ? ', everything together and each unit alone' : ''}; hatched bars with a minus sign are decreases`,
      items,
      signed: true,
      axisLabel: `change of the ${r.metric.kind === 'loss' ? 'loss' : 'logit difference'}`,
    });
    const notes: string[] = [];
    if (individual.length > MAX_BARS - 1) notes.push(`The chart shows the ${MAX_BARS - 1} units with the largest changes of ${individual.length}.`);
    const effects = table(
      `The ${metric} after ablation, and its change`,
      [{ text: 'ablated' }, { text: 'before', num: true }, { text: 'after', num: true }, { text: 'change', num: true }],
      [
        [th('all together'), td(num(r.before)), td(num(r.after)), td(signed(r.delta))],
        ...individual.slice(0, MAX_ROWS).map((x) => [th(x.label, x.neuron === null ? `layer ${x.layer}, head ${x.head}` : `layer ${x.layer}, neuron ${x.neuron}`), td(num(r.before)), td(num(x.after)), td(signed(x.delta))]),
      ],
      { note: individual.length > MAX_ROWS ? `The table lists the ${MAX_ROWS} units with the largest changes of ${individual.length}.` : '' },
    );
    return {
      partial: 'experiments/ablation',
      view: {
        id: ctx.id,
        method: r.method === 'zero' ? 'zero ablation' : `mean ablation (means over ${r.mean_over === 'mean_prompts' ? 'the given prompts' : "the prompt's own positions"})`,
        metric,
        tokens: plural(r.tokens.length, 'token'),
        before: num(r.before),
        after: num(r.after),
        delta: signed(r.delta),
        chart,
        notes,
        effects,
      },
      caption: `${r.method === 'zero' ? 'Zero' : 'Mean'} ablation: ${metric} ${num(r.before)} → ${num(r.after)}`,
    };
  },
};

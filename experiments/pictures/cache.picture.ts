/**
 * `cache`: the activations are far too many numbers to show, so the picture summarises them: a bar per residual
 * stream hook (its root mean square), a table of every hook's shape and statistics, and the largest logits at each
 * kept position.
 */
import { type CacheResult, cacheTechnique } from '../techniques/cache.ts';
import type { Nested } from '../techniques/metrics.ts';
import { bars } from './bars.ts';
import type { Presenter } from './picture.ts';
import { MAX_AXIS, capAxis, num, plural, positionLabel, quoted } from './scale.ts';
import { table, td, th, tx } from './table.ts';

const MAX_HOOKS = 300;
const MAX_BARS = 64;
const TOP_LOGITS = 5;

interface Stats { count: number; masked: number; min: number; max: number; mean: number; rms: number }

/** Statistics of the numbers in nested arrays (nulls, masked attention scores, counted apart). */
export function nestedStats(x: Nested): Stats {
  let count = 0;
  let masked = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  const stack: Nested[] = [x];
  while (stack.length) {
    const v = stack.pop()!;
    if (v === null) masked++;
    else if (typeof v === 'number') {
      count++;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      sq += v * v;
    } else for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]!);
  }
  return count
    ? { count, masked, min, max, mean: sum / count, rms: Math.sqrt(sq / count) }
    : { count, masked, min: NaN, max: NaN, mean: NaN, rms: NaN };
}

const residual = /^blocks\.(\d+)\.hook_resid_(pre|mid|post)$/;

export const cachePicture: Presenter<CacheResult> = {
  technique: cacheTechnique,
  present(r, ctx) {
    const names = Object.keys(r.activations);
    const shownNames = names.slice(0, MAX_HOOKS);
    const stats = new Map(shownNames.map((n) => [n, nestedStats(r.activations[n]!)]));
    const resid = shownNames.filter((n) => residual.test(n));
    const barNames = (resid.length ? resid : shownNames).slice(0, MAX_BARS);
    const chart = barNames.length
      ? bars({
        id: `${ctx.id}-bars`,
        title: `Root mean square of ${resid.length ? 'the residual stream at each cached hook' : 'each cached activation'}, in forward order`,
        items: barNames.map((n) => ({ label: n.replace(/^blocks\./, 'L').replace('.hook_', ' '), title: `${n}: RMS ${num(stats.get(n)!.rms, 4)}`, value: stats.get(n)!.rms })),
        digits: 3,
        signed: false,
        axisLabel: 'root mean square over every kept position and dimension',
      })
      : null;
    const notes: string[] = [];
    if ((resid.length || shownNames.length) > MAX_BARS) notes.push(`The chart shows the first ${MAX_BARS} of ${plural(resid.length || shownNames.length, 'hook')}.`);
    const hooks = table(
      'Every cached activation: its shape and statistics',
      [{ text: 'hook' }, { text: 'shape' }, { text: 'values', num: true }, { text: 'min', num: true }, { text: 'max', num: true }, { text: 'mean', num: true }, { text: 'RMS', num: true }, { text: 'masked', num: true, title: 'masked attention scores (-Infinity), stored as null' }],
      shownNames.map((n) => {
        const s = stats.get(n)!;
        return [th(n), tx(`[${(r.shapes[n] ?? []).join(', ')}]`), td(String(s.count)), td(num(s.min)), td(num(s.max)), td(num(s.mean)), td(num(s.rms)), td(String(s.masked))];
      }),
      { note: names.length > MAX_HOOKS ? `The table lists the first ${MAX_HOOKS} of ${plural(names.length, 'cached hook')}.` : '' },
    );
    let logits = null;
    if (r.logits) {
      const pc = capAxis(r.logits.length, MAX_AXIS, 'last');
      logits = table(
        `The ${TOP_LOGITS} largest logits at each kept position (token ids)`,
        [{ text: 'position' }, ...Array.from({ length: TOP_LOGITS }, (_, i) => ({ text: `#${i + 1}` }))],
        pc.kept.map((i) => {
          const row = r.logits![i]!;
          const p = r.positions[i] ?? i;
          const top = row.map((v, id) => ({ v, id })).sort((a, b) => b.v - a.v || a.id - b.id).slice(0, TOP_LOGITS);
          return [th(positionLabel(p, r.token_strings[p]), `${p} ${quoted(r.token_strings[p] ?? '?')}`), ...top.map((t) => tx(`id ${t.id}`, { sub: num(t.v), title: `token id ${t.id}: logit ${num(t.v, 4)}` }))];
        }),
        { note: pc.leftOut ? `Only the last ${MAX_AXIS} positions are listed; ${pc.leftOut} earlier ones left out.` : '' },
      );
    }
    const tc = capAxis(r.token_strings.length, 4 * MAX_AXIS, 'first');
    return {
      partial: 'experiments/cache',
      view: {
        id: ctx.id,
        tokens: tc.kept.map((i) => ({ text: positionLabel(i, r.token_strings[i], 16), title: `${quoted(r.token_strings[i] ?? '')} (id ${r.tokens[i]})` })),
        tokensLeftOut: tc.leftOut ? `and ${plural(tc.leftOut, 'more token')}` : '',
        positions: r.positions.length === r.tokens.length ? 'every position' : `position${r.positions.length === 1 ? '' : 's'} ${r.positions.join(', ')}`,
        hookCount: plural(names.length, 'hook'),
        logitsShape: r.logits ? `[${r.logits.length}, ${r.logits[0]?.length ?? 0}]` : '',
        chart,
        notes,
        hooks,
        logits,
      },
      caption: `Cached activations: ${plural(names.length, 'hook')} over ${plural(r.tokens.length, 'token')}`,
    };
  },
};

/**
 * `dla`: a bar chart of the largest direct logit attributions (negative bars hatched and signed), a layer × head heat
 * map of the heads' attributions, and a table of every component.
 */
import { type DlaResult, dlaTechnique } from '../techniques/dla.ts';
import { bars } from './bars.ts';
import { heatmap } from './heatmap.ts';
import type { Presenter } from './picture.ts';
import { MAX_AXIS, capAxis, divergingScale, maxAbs, num, plural, quoted, signed } from './scale.ts';
import { table, td, th, tx } from './table.ts';

/** Bars for the components with the largest |value|. */
const MAX_BARS = 24;
/** Rows of the components' table. */
const MAX_ROWS = 300;

const kindWords: Record<DlaResult['components'][number]['kind'], string> = {
  embed: 'token embedding',
  pos_embed: 'position embedding',
  head: 'attention head',
  attn_bias: 'attention output bias',
  mlp: 'MLP',
  final_bias: 'final norm and unembedding biases',
};

export const dlaPicture: Presenter<DlaResult> = {
  technique: dlaTechnique,
  present(r, ctx) {
    const what = r.contrast ? `logit difference ${quoted(r.target.text)} − ${quoted(r.contrast.text)}` : `logit of ${quoted(r.target.text)}`;
    const ranked = r.components.map((c, i) => ({ c, i })).sort((a, b) => Math.abs(b.c.value) - Math.abs(a.c.value) || a.i - b.i);
    const shown = ranked.slice(0, MAX_BARS);
    const rest = ranked.slice(MAX_BARS);
    const restSum = rest.reduce((s, x) => s + x.c.value, 0);
    const chart = bars({
      id: `${ctx.id}-bars`,
      title: `Direct logit attribution to the ${what} at position ${r.position}: the ${plural(shown.length, 'component')} with the largest contributions; solid bars push it up, hatched bars (with a minus sign) push it down`,
      items: shown.map(({ c }) => ({ label: c.label, title: `${c.label} (${kindWords[c.kind]}): ${signed(c.value)}`, value: c.value })),
      signed: true,
      axisLabel: `contribution to the ${r.contrast ? 'logit difference' : 'logit'}`,
    });
    const notes: string[] = [];
    if (rest.length) notes.push(`${plural(rest.length, 'smaller component')} ${rest.length === 1 ? 'is' : 'are'} left out of the chart; together ${rest.length === 1 ? 'it adds' : 'they add'} ${signed(restSum)}.`);

    const nLayers = r.heads.length;
    const nHeads = r.heads.reduce((m, row) => Math.max(m, row.length), 0);
    const lc = capAxis(nLayers, MAX_AXIS, 'first');
    const hc = capAxis(nHeads, MAX_AXIS, 'first');
    const headNotes: string[] = [];
    if (lc.leftOut || hc.leftOut) headNotes.push(`Only the first ${MAX_AXIS} layers and heads are shown (${lc.leftOut} layers, ${hc.leftOut} heads left out).`);
    const heads = nLayers && nHeads
      ? heatmap({
        id: `${ctx.id}-heads`,
        title: `Direct logit attribution of each attention head, layer (rows) × head (columns), to the ${what}; blue raises it, red (dotted) lowers it`,
        rows: lc.kept.map((l) => ({ text: `L${l}`, title: `layer ${l}` })),
        columns: hc.kept.map((h) => ({ text: `H${h}`, title: `head ${h}` })),
        values: lc.kept.map((l) => hc.kept.map((h) => r.heads[l]?.[h] ?? null)),
        rowAxis: 'layer', columnAxis: 'head',
        scale: divergingScale(maxAbs(r.heads.flat()), 'contribution'),
        notes: headNotes,
        tableCaption: 'Direct logit attribution of each head (layer rows, head columns)',
      })
      : null;

    const rows = ranked.slice(0, MAX_ROWS);
    const components = table(
      `Every component's contribution to the ${what}, largest first`,
      [{ text: 'component' }, { text: 'kind' }, { text: 'layer', num: true }, { text: 'head', num: true }, { text: 'contribution', num: true }],
      rows.map(({ c }) => [th(c.label), tx(kindWords[c.kind]), td(c.layer === null ? '' : String(c.layer)), td(c.head === null ? '' : String(c.head)), td(signed(c.value))]),
      { note: ranked.length > MAX_ROWS ? `The ${plural(ranked.length - MAX_ROWS, 'smallest component')} are left out of the table.` : '' },
    );
    return {
      partial: 'experiments/dla',
      view: {
        id: ctx.id,
        what,
        position: r.position,
        token: quoted(r.token_strings[r.position] ?? '?'),
        total: num(r.total),
        sumOfParts: num(r.sum_of_parts),
        finalScale: num(r.final_scale),
        chart,
        notes,
        heads,
        components,
      },
      caption: `Direct logit attribution to the ${what} at position ${r.position}`,
    };
  },
};

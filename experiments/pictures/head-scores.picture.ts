/**
 * `head-scores`: a layer × head heat map for each score (previous-token, duplicate-token, induction; all in [0, 1]),
 * and the best heads of each.
 */
import { type HeadScoresResult, headScoresTechnique } from '../techniques/head-scores.ts';
import { heatmap } from './heatmap.ts';
import type { Presenter } from './picture.ts';
import { MAX_AXIS, capAxis, num, plural, sequentialScale } from './scale.ts';
import { table, td, th, tx } from './table.ts';

const SCORES = [
  { key: 'induction', name: 'Induction', words: 'attention from the second repeat to the token after the same token in the first repeat' },
  { key: 'previous_token', name: 'Previous token', words: 'attention to the previous position' },
  { key: 'duplicate_token', name: 'Duplicate token', words: 'attention from the second repeat to the same token in the first repeat' },
] as const;

export const headScoresPicture: Presenter<HeadScoresResult> = {
  technique: headScoresTechnique,
  present(r, ctx) {
    const heatmaps = SCORES.map((s) => {
      const grid = r[s.key];
      const nLayers = grid.length;
      const nHeads = grid.reduce((m, row) => Math.max(m, row.length), 0);
      const lc = capAxis(nLayers, MAX_AXIS, 'first');
      const hc = capAxis(nHeads, MAX_AXIS, 'first');
      const notes = [`${s.name} score: mean ${s.words}.`];
      if (lc.leftOut || hc.leftOut) notes.push(`Only the first ${MAX_AXIS} layers and heads are shown (${lc.leftOut} layers, ${hc.leftOut} heads left out).`);
      return {
        heading: `${s.name} score, layer × head`,
        heatmap: heatmap({
          id: `${ctx.id}-${s.key.replace(/_/g, '-')}`,
          title: `${s.name} score of each attention head, layer (rows) × head (columns); darker is higher, from 0 to 1`,
          rows: lc.kept.map((l) => ({ text: `L${l}`, title: `layer ${l}` })),
          columns: hc.kept.map((h) => ({ text: `H${h}`, title: `head ${h}` })),
          values: lc.kept.map((l) => hc.kept.map((h) => grid[l]?.[h] ?? null)),
          rowAxis: 'layer', columnAxis: 'head',
          scale: sequentialScale(0, 1, `${s.name.toLowerCase()} score`),
          notes,
          tableCaption: `${s.name} score of each head (layer rows, head columns)`,
          titleLimit: 512,
        }),
      };
    });
    const top = table(
      'The best heads for each score',
      [{ text: 'score' }, { text: 'rank', num: true }, { text: 'head' }, { text: 'value', num: true }],
      SCORES.flatMap((s) => r.top[s.key].map((x, i) => [th(s.name), td(String(i + 1)), tx(`L${x.layer}H${x.head}`, { title: `layer ${x.layer}, head ${x.head}` }), td(num(x.score))])),
      { fold: false },
    );
    const best = r.top.induction[0];
    return {
      partial: 'experiments/head-scores',
      view: {
        id: ctx.id,
        sequences: `${plural(r.n_sequences, 'sequence')} of ${plural(r.seq_len, 'random token')} repeated twice${r.bos ? ', after BOS' : ''} (seed ${r.seed})`,
        heatmaps,
        top,
      },
      caption: `Head scores (induction, previous-token, duplicate-token)${best ? `; best induction head L${best.layer}H${best.head} (${num(best.score)})` : ''}`,
    };
  },
};

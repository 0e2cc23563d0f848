/**
 * `attention`: one layer and head's pattern as a heat map, query tokens down, key tokens across, with a picker (a
 * plain GET form: `run`, `layer`, `head`) for the layer and head. Long prompts show the last MAX_AXIS positions; the
 * attention each query pays to the earlier keys is summed in one column, so every row still sums to 1.
 */
import { type AttentionResult, attentionTechnique } from '../techniques/attention.ts';
import { type AxisLabel, heatmap } from './heatmap.ts';
import type { PictureContext, Presenter } from './picture.ts';
import { MAX_AXIS, num, plural, positionLabel, quoted, sequentialScale } from './scale.ts';

export const attentionPicture: Presenter<AttentionResult> = {
  technique: attentionTechnique,
  present(r, ctx) {
    const picker = pickerFor(r, ctx);
    if (!picker.layerEntry || !picker.headEntry) {
      return { partial: 'experiments/attention', view: { id: ctx.id, picker: picker.view, empty: 'This run holds no attention pattern.' }, caption: 'Attention patterns: none in this run' };
    }
    const { layer } = picker.layerEntry;
    const { head, pattern } = picker.headEntry;
    const nq = pattern.length;
    const nk = pattern.reduce((m, row) => Math.max(m, row.length), 0);
    const qStart = Math.max(0, nq - MAX_AXIS);
    const kStart = Math.max(0, nk - MAX_AXIS);
    const queries = Array.from({ length: nq - qStart }, (_, i) => qStart + i);
    const keys = Array.from({ length: nk - kStart }, (_, i) => kStart + i);
    const queryText = (q: number) => r.query_tokens[q] ?? '?';
    const keyText = (k: number) => r.key_tokens[k] ?? '?';
    const rows: AxisLabel[] = queries.map((q) => ({ text: positionLabel(q, queryText(q)), title: `${q} ${quoted(queryText(q))}` }));
    const columns: AxisLabel[] = keys.map((k) => ({ text: positionLabel(k, keyText(k)), title: `${k} ${quoted(keyText(k))}` }));
    const values = queries.map((q) => keys.map((k) => pattern[q]?.[k] ?? null));
    const notes: string[] = [];
    if (kStart > 0) {
      columns.unshift({ text: `0–${kStart - 1} earlier`, title: `positions 0 to ${kStart - 1} (${plural(kStart, 'token')}), summed` });
      values.forEach((row, i) => row.unshift((pattern[queries[i]!] ?? []).slice(0, kStart).reduce((a, b) => a + b, 0)));
    }
    if (qStart > 0 || kStart > 0) {
      notes.push(
        `The prompt has ${plural(Math.max(nq, nk), 'token')}; the picture and the table show only the last ${MAX_AXIS} ` +
        `(positions ${Math.min(qStart, kStart)} to ${Math.max(nq, nk) - 1}) as queries and keys. ` +
        (kStart > 0 ? `The first column sums the attention each query pays to the ${plural(kStart, 'earlier token')} left out.` : ''),
      );
    }
    const hm = heatmap({
      id: `${ctx.id}-pattern`,
      title: `Attention pattern of layer ${layer}, head ${head}: how much each query token (row) attends to each key token (column); darker is more, values in the table below`,
      rows, columns, values,
      rowAxis: 'query token',
      columnAxis: 'key token',
      scale: sequentialScale(0, 1, 'attention weight'),
      cellTitle: (i, j, v) => `${rows[i]!.text} → ${columns[j]!.text}: ${num(v)}`,
      notes: [...notes, 'Each row sums to 1; keys after the query (above the diagonal) get 0 in a causal model.'],
      tableCaption: `Attention weights, layer ${layer}, head ${head} (query rows, key columns)`,
    });
    return {
      partial: 'experiments/attention',
      view: { id: ctx.id, picker: picker.view, heatmap: hm, layer, head },
      caption: `Attention pattern of layer ${layer}, head ${head} over ${plural(nq, 'token')}`,
    };
  },
};

/** The chosen layer and head (the page's query, else the first ones) and the picker's form. */
function pickerFor(r: AttentionResult, ctx: PictureContext) {
  const notes: string[] = [];
  let layerEntry = r.layers.find((l) => l.layer === ctx.layer);
  if (!layerEntry) {
    if (ctx.layer !== undefined) notes.push(`This run has no layer ${ctx.layer}; showing the first one.`);
    layerEntry = r.layers[0];
  }
  let headEntry = layerEntry?.heads.find((h) => h.head === ctx.head);
  if (!headEntry && layerEntry) {
    if (ctx.head !== undefined) notes.push(`Layer ${layerEntry.layer} has no head ${ctx.head} in this run; showing the first one.`);
    headEntry = layerEntry.heads[0];
  }
  const heads = layerEntry?.heads ?? [];
  return {
    layerEntry,
    headEntry,
    view: {
      run: ctx.run,
      layerSelectId: `${ctx.id}-layer`,
      headSelectId: `${ctx.id}-head`,
      layers: r.layers.map((l) => ({ value: l.layer, selected: l === layerEntry })),
      heads: heads.map((h) => ({ value: h.head, selected: h === headEntry })),
      notes,
    },
  };
}

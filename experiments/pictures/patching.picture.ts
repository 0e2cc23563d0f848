/**
 * `patching`: heat maps of the normalised metric (0: as corrupted, 1: as clean) for resid_pre (layer × position) and
 * attn_head_out (layer × head), whichever the run computed, on one diverging scale.
 */
import { type PatchingResult, patchingTechnique } from '../techniques/patching.ts';
import { type AxisLabel, type HeatmapView, heatmap } from './heatmap.ts';
import type { Presenter } from './picture.ts';
import { MAX_AXIS, capAxis, divergingScale, maxAbs, num, plural, positionLabel, quoted } from './scale.ts';

export const patchingPicture: Presenter<PatchingResult> = {
  technique: patchingTechnique,
  present(r, ctx) {
    const all = [...(r.resid_pre?.values.flat() ?? []), ...(r.attn_head_out?.values.flat() ?? [])];
    const scale = divergingScale(Math.max(1, maxAbs(all)), 'share of the logit difference restored');
    const metric = `logit difference ${quoted(r.answer.text)} − ${quoted(r.wrong.text)} at position ${r.position}`;
    const heatmaps: { heading: string; heatmap: HeatmapView }[] = [];

    if (r.resid_pre) {
      const { layers, positions, values } = r.resid_pre;
      const lc = capAxis(layers.length, MAX_AXIS, 'first');
      const pc = capAxis(positions.length, MAX_AXIS, 'last');
      const differs = (p: number) => r.tokens.clean[p] !== r.tokens.corrupted[p];
      const columns: AxisLabel[] = pc.kept.map((j) => {
        const p = positions[j]!;
        const clean = r.token_strings.clean[p];
        const corrupted = r.token_strings.corrupted[p];
        return {
          text: `${positionLabel(p, clean)}${differs(p) ? ' *' : ''}`,
          title: differs(p) ? `position ${p}: clean ${quoted(clean ?? '?')}, corrupted ${quoted(corrupted ?? '?')}` : `position ${p}: ${quoted(clean ?? '?')} in both prompts`,
        };
      });
      const notes = ['1: patching in the clean activation restores the clean logit difference; 0: no effect.'];
      if (positions.some(differs)) notes.push('* marks the positions where the clean and corrupted prompts differ.');
      if (lc.leftOut) notes.push(`Only the first ${MAX_AXIS} of ${plural(layers.length, 'layer')} are shown; ${lc.leftOut} left out.`);
      if (pc.leftOut) notes.push(`Only the last ${MAX_AXIS} of ${plural(positions.length, 'position')} are shown; ${pc.leftOut} earlier ones left out.`);
      heatmaps.push({
        heading: 'Residual stream (resid_pre), layer × position',
        heatmap: heatmap({
          id: `${ctx.id}-resid`,
          title: `Activation patching of the residual stream before each layer (rows) at each position (columns): the share of the ${metric} restored; blue restores, red works against it`,
          rows: lc.kept.map((i) => ({ text: `L${layers[i]}`, title: `layer ${layers[i]}` })),
          columns,
          values: lc.kept.map((i) => pc.kept.map((j) => values[i]?.[j] ?? null)),
          rowAxis: 'layer', columnAxis: 'position',
          scale, notes,
          tableCaption: 'Normalised logit difference after patching resid_pre (layer rows, position columns)',
        }),
      });
    }
    if (r.attn_head_out) {
      const { layers, heads, values } = r.attn_head_out;
      const lc = capAxis(layers.length, MAX_AXIS, 'first');
      const hc = capAxis(heads.length, MAX_AXIS, 'first');
      const notes = ['Each head\'s output (hook_z) is patched at every position.'];
      if (lc.leftOut) notes.push(`Only the first ${MAX_AXIS} of ${plural(layers.length, 'layer')} are shown; ${lc.leftOut} left out.`);
      if (hc.leftOut) notes.push(`Only the first ${MAX_AXIS} of ${plural(heads.length, 'head')} are shown; ${hc.leftOut} left out.`);
      heatmaps.push({
        heading: 'Attention heads (attn_head_out), layer × head',
        heatmap: heatmap({
          id: `${ctx.id}-heads`,
          title: `Activation patching of each attention head's output, layer (rows) × head (columns): the share of the ${metric} restored; blue restores, red works against it`,
          rows: lc.kept.map((i) => ({ text: `L${layers[i]}`, title: `layer ${layers[i]}` })),
          columns: hc.kept.map((j) => ({ text: `H${heads[j]}`, title: `head ${heads[j]}` })),
          values: lc.kept.map((i) => hc.kept.map((j) => values[i]?.[j] ?? null)),
          rowAxis: 'layer', columnAxis: 'head',
          scale, notes,
          tableCaption: 'Normalised logit difference after patching each head (layer rows, head columns)',
        }),
      });
    }
    return {
      partial: 'experiments/patching',
      view: {
        id: ctx.id,
        answer: quoted(r.answer.text),
        wrong: quoted(r.wrong.text),
        position: r.position,
        clean: num(r.clean_logit_diff),
        corrupted: num(r.corrupted_logit_diff),
        heatmaps,
        empty: heatmaps.length ? '' : 'This run patched nothing (neither resid_pre nor attn_head_out).',
      },
      caption: `Activation patching: share of the ${metric} restored, ${heatmaps.map((h) => h.heading.split(' (')[0]!.toLowerCase()).join(' and ') || 'nothing patched'}`,
    };
  },
};

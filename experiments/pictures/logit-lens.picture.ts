/**
 * `logit-lens`: tables of layers × positions whose cells are coloured by probability (CSS bins pic-p0 … pic-p9) and
 * print it: the top token at each layer, and the target token's probability and rank; then, per position, the top
 * tokens of every layer with the target's probability, rank, logit and KL to the final layer.
 */
import { type LogitLensResult, logitLensTechnique } from '../techniques/logit-lens.ts';
import type { Presenter } from './picture.ts';
import { MAX_AXIS, capAxis, num, plural, positionLabel, probBin, probBins, quoted, tokenLabel } from './scale.ts';
import { type TableCell, type TableView, table, td, th } from './table.ts';

const MAX_LAYERS = 2 * MAX_AXIS;
/** Per-position detail tables for at most this many positions, with at most this many top tokens. */
const DETAIL_POSITIONS = 8;
const DETAIL_TOP = 10;

const probCell = (text: string, prob: number, sub: string, title: string): TableCell => ({ text, sub, cls: `pic-prob ${probBin(prob)}`, title });

export const logitLensPicture: Presenter<LogitLensResult> = {
  technique: logitLensTechnique,
  present(r, ctx) {
    const pc = capAxis(r.positions.length, MAX_AXIS, 'first');
    const positions = pc.kept.map((i) => r.positions[i]!);
    const nLayers = positions.reduce((m, p) => Math.max(m, p.layers.length), 0);
    const lc = capAxis(nLayers, MAX_LAYERS, 'first');
    const labelOf = (l: number) => positions.find((p) => p.layers[l])?.layers[l]!.label ?? r.layer_labels[l] ?? String(l);
    const layerHeader = (l: number) => th(labelOf(l) === 'embed' ? 'embed' : `L${labelOf(l)}`, r.hooks[l] ?? '');
    const notes: string[] = [];
    if (pc.leftOut) notes.push(`Only the first ${MAX_AXIS} of ${plural(r.positions.length, 'position')} are shown; ${pc.leftOut} left out.`);
    if (lc.leftOut) notes.push(`Only the first ${MAX_LAYERS} of ${plural(nLayers, 'layer')} are shown; ${lc.leftOut} left out.`);

    const positionColumns = positions.map((p) => ({ text: positionLabel(p.position, p.token.text), title: `position ${p.position}: ${quoted(p.token.text)}` }));
    const top: TableView = table(
      'Top token at each layer (rows) and position (columns), with its probability',
      [{ text: 'layer' }, ...positionColumns],
      lc.kept.map((l) => [layerHeader(l), ...positions.map((p) => {
        const layer = p.layers[l];
        const best = layer?.top[0];
        if (!layer || !best) return td('—');
        return probCell(tokenLabel(best.text, 14), best.prob, num(best.prob), `layer ${layer.label}, position ${p.position}: top token ${quoted(best.text)} (id ${best.id}), probability ${num(best.prob, 4)}, logit ${num(best.logit)}`);
      })]),
      { fold: false, cls: 'pic-lens' },
    );
    const target: TableView = table(
      'Probability of the target token at each layer (rows) and position (columns), with its rank (0 = top)',
      [{ text: 'layer' }, ...positions.map((p) => ({ text: `${p.position} → ${tokenLabel(p.target.text)}`, title: `position ${p.position}: target ${quoted(p.target.text)} (id ${p.target.id}; ${sourceWords[p.target.source]})` }))],
      lc.kept.map((l) => [layerHeader(l), ...positions.map((p) => {
        const layer = p.layers[l];
        if (!layer) return td('—');
        return probCell(num(layer.target_prob), layer.target_prob, `rank ${layer.target_rank}`, `layer ${layer.label}, position ${p.position}: target ${quoted(p.target.text)} probability ${num(layer.target_prob, 4)}, rank ${layer.target_rank}, logit ${num(layer.target_logit)}, KL to final ${num(layer.kl_to_final)}`);
      })]),
      { fold: false, cls: 'pic-lens' },
    );
    const details = positions.slice(0, DETAIL_POSITIONS).map((p) => {
      const k = Math.min(DETAIL_TOP, p.layers.reduce((m, l) => Math.max(m, l.top.length), 0));
      return table(
        `Position ${p.position} (${quoted(p.token.text)}), target ${quoted(p.target.text)}: the top ${plural(k, 'token')} of each layer`,
        [{ text: 'layer' }, ...Array.from({ length: k }, (_, i) => ({ text: `#${i + 1}` })), { text: 'target prob', num: true }, { text: 'target rank', num: true }, { text: 'target logit', num: true }, { text: 'KL to final (nats)', num: true }],
        lc.kept.map((l) => {
          const layer = p.layers[l];
          if (!layer) return [layerHeader(l)];
          return [
            layerHeader(l),
            ...Array.from({ length: k }, (_, i) => {
              const t = layer.top[i];
              return t ? probCell(tokenLabel(t.text, 14), t.prob, num(t.prob), `${quoted(t.text)} (id ${t.id}): probability ${num(t.prob, 4)}, logit ${num(t.logit)}`) : td('');
            }),
            td(num(layer.target_prob)), td(String(layer.target_rank)), td(num(layer.target_logit)), td(num(layer.kl_to_final)),
          ];
        }),
        { fold: true, summary: `Position ${p.position} ${quoted(p.token.text)}: top tokens per layer`, cls: 'pic-lens' },
      );
    });
    if (positions.length > DETAIL_POSITIONS) notes.push(`Top-token details are given for the first ${DETAIL_POSITIONS} positions only.`);
    return {
      partial: 'experiments/logit-lens',
      view: { id: ctx.id, top, target, details, bins: probBins, notes },
      caption: `Logit lens: what the residual stream predicts after each layer, at ${plural(r.positions.length, 'position')}`,
    };
  },
};

const sourceWords: Record<LogitLensResult['positions'][number]['target']['source'], string> = {
  param: 'the token asked for',
  next_token: 'the next token of the prompt',
  final_top1: "the model's final top token",
};

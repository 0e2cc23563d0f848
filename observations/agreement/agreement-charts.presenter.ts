import type { AgreementCoder } from './agreement.queries.ts';
import type { AgreementRow, Figure, PairKappa } from './agreement-report.ts';

/**
 * Geometry for the agreement page's server-rendered SVG charts (the template draws it; no script needed). Every mark
 * carries its number as text, bands and series are told apart by labels and patterns as well as colour.
 */

/** Landis and Koch's (1977) reading of kappa, the band a value falls in (a CSS class and a word). */
export function kappaBand(value: number | null): { band: string; word: string } {
  if (value === null) return { band: 'none', word: 'undefined' };
  if (value < 0) return { band: 'neg', word: 'below chance' };
  if (value <= 0.2) return { band: 'slight', word: 'slight' };
  if (value <= 0.4) return { band: 'fair', word: 'fair' };
  if (value <= 0.6) return { band: 'moderate', word: 'moderate' };
  if (value <= 0.8) return { band: 'substantial', word: 'substantial' };
  return { band: 'perfect', word: 'almost perfect' };
}

/** A figure as people read it: three decimals, or "undefined". */
export function formatFigure(f: Figure | null | undefined): string {
  if (!f || f.value === null) return 'undefined';
  return f.value.toFixed(3);
}

const LABEL_WIDTH = 190;
const PLOT_WIDTH = 440;
const VALUE_ROOM = 130;
const TOP = 50;
const ROW = 38;
const BAR = 13;

interface Bar { series: 'alpha' | 'fleiss'; x: number; y: number; width: number; height: number; textX: number; textY: number; text: string; title: string }

/**
 * A horizontal bar chart of Krippendorff's alpha (solid) and Fleiss' kappa (hatched) per behaviour, the pooled
 * overall first, on a scale from the lowest value (or 0) to 1, with the 0.4, 0.6 and 0.8 band boundaries drawn and
 * named. Undefined figures get a written "undefined" instead of a bar.
 */
export function coefficientBarChart(rows: AgreementRow[]) {
  const values = rows.flatMap((r) => [r.alpha.value, r.fleiss.value]).filter((v): v is number => v !== null);
  const low = Math.max(-1, Math.min(0, Math.floor(Math.min(0, ...values) * 5) / 5));
  const x = (v: number) => LABEL_WIDTH + ((v - low) / (1 - low)) * PLOT_WIDTH;
  const zero = x(0);
  const height = TOP + rows.length * ROW + 30;
  const bars: Bar[] = [];
  const labels = rows.map((r, i) => {
    const y = TOP + i * ROW;
    for (const [series, f, offset, symbol] of [['alpha', r.alpha, 4, 'α'], ['fleiss', r.fleiss, 4 + BAR + 2, 'κ']] as const) {
      const top = y + offset;
      if (f.value === null) {
        bars.push({ series, x: zero, y: top, width: 0, height: BAR, textX: zero + 4, textY: top + BAR - 2, text: `${symbol} undefined`, title: f.reason ?? '' });
        continue;
      }
      const end = x(f.value);
      const left = Math.min(zero, end);
      bars.push({
        series, x: round(left), y: top, width: round(Math.max(1, Math.abs(end - zero))), height: BAR,
        textX: round(Math.max(zero, end) + 4), textY: top + BAR - 2, text: `${symbol} ${f.value.toFixed(2)}`,
        title: `${series === 'alpha' ? "Krippendorff's alpha" : "Fleiss' kappa"} ${f.value.toFixed(3)} (n = ${f.n} ${f.nMeaning})`,
      });
    }
    return { text: r.behaviour ? r.behaviour.code : 'All (pooled)', title: r.behaviour?.name ?? 'All behaviours pooled', x: LABEL_WIDTH - 8, y: y + BAR + 6 };
  });
  const bands = [
    { from: 0.4, to: 0.6, word: 'moderate' },
    { from: 0.6, to: 0.8, word: 'substantial' },
    { from: 0.8, to: 1, word: 'almost perfect' },
  ].map((b, i) => ({ ...b, cls: `band-${i + 1}`, x: round(x(b.from)), width: round(x(b.to) - x(b.from)), textX: round(x(b.from) + 3), textY: 12 + i * 12 }));
  const lines = [0.4, 0.6, 0.8].map((v) => ({ x: round(x(v)), label: v.toFixed(1) }));
  const ticks = [low, ...(low < 0 ? [0] : []), 0.2, 0.4, 0.6, 0.8, 1].filter((v, i, all) => all.indexOf(v) === i && v >= low).map((v) => ({ x: round(x(v)), label: Number(v.toFixed(1)).toString() }));
  return {
    width: LABEL_WIDTH + PLOT_WIDTH + VALUE_ROOM,
    height,
    plotTop: TOP - 6,
    plotBottom: TOP + rows.length * ROW,
    plotHeight: rows.length * ROW + 6,
    axisY: TOP + rows.length * ROW + 16,
    zero: round(zero),
    bands,
    lines,
    ticks,
    labels,
    bars,
  };
}

const CELL = 62;
const HEAT_LABEL = 140;

/**
 * A heat map of Cohen's kappa for every pair of coders (symmetric; the diagonal is blank), each cell shaded by its
 * band and printing its value and the number of shared units.
 */
export function kappaHeatMap(coders: AgreementCoder[], pairs: PairKappa[]) {
  const index = new Map(coders.map((c, i) => [c.id, i]));
  const byCell = new Map<string, PairKappa>();
  for (const p of pairs) {
    byCell.set(`${index.get(p.coderA.id)} ${index.get(p.coderB.id)}`, p);
    byCell.set(`${index.get(p.coderB.id)} ${index.get(p.coderA.id)}`, p);
  }
  const cells = coders.flatMap((a, i) =>
    coders.map((b, j) => {
      const p = byCell.get(`${i} ${j}`);
      const x = HEAT_LABEL + j * CELL;
      const y = HEAT_LABEL + i * CELL;
      if (i === j || !p) return { x, y, size: CELL, cls: 'heat-self', text: '', sub: '', textX: x + CELL / 2, textY: y + CELL / 2, subY: y + CELL / 2 + 14, title: `${a.name}` };
      const { band, word } = kappaBand(p.kappa.value);
      return {
        x, y, size: CELL, cls: `heat-${band}`,
        text: p.kappa.value === null ? '—' : p.kappa.value.toFixed(2),
        sub: `n=${p.kappa.n}`,
        textX: x + CELL / 2, textY: y + CELL / 2, subY: y + CELL / 2 + 14,
        title: `${a.name} and ${b.name}: ${p.kappa.value === null ? `undefined: ${p.kappa.reason}` : `kappa ${p.kappa.value.toFixed(3)} (${word})`}, ${p.kappa.n} ${p.kappa.nMeaning}`,
      };
    }),
  );
  const short = (name: string) => (name.length > 16 ? `${name.slice(0, 15)}…` : name);
  return {
    width: HEAT_LABEL + coders.length * CELL + 10,
    height: HEAT_LABEL + coders.length * CELL + 10,
    rowLabels: coders.map((c, i) => ({ text: short(c.name), title: c.name, x: HEAT_LABEL - 8, y: HEAT_LABEL + i * CELL + CELL / 2 + 4 })),
    columnLabels: coders.map((c, j) => ({ text: short(c.name), title: c.name, x: HEAT_LABEL + j * CELL + CELL / 2, y: HEAT_LABEL - 8 })),
    cells,
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

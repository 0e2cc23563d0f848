/**
 * The analysis charts (Observable Plot), a bundle of its own (`/assets/charts.js`) so the main bundle stays small:
 * the `chart` enhancer loads it on pages that have a chart. Each chart reads the data the page embedded beside it.
 * Nothing relies on colour alone: bars and cells carry their numbers or codes as text, significant cells a symbol
 * and a thick outline, and every mark has a tip with its figures.
 */
import * as Plot from '@observablehq/plot';

type Cell = Record<string, unknown>;
export interface ChartSpec { type: string; [key: string]: unknown }

const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : '–');
const num = (x: unknown, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '–');
const pv = (x: unknown) => (typeof x !== 'number' ? '–' : x < 0.001 ? x.toExponential(1) : x.toFixed(3));

/** Renders the chart into `target`, replacing what was there. */
export function renderChart(target: HTMLElement, spec: ChartSpec): void {
  const charts = build(spec);
  target.replaceChildren(...charts.map(tidy));
}

/**
 * Plot adds a <style> element to each chart; the site's Content-Security-Policy refuses inline style elements, so it
 * is removed before the chart enters the page and its two rules are applied through the CSSOM (which CSP allows).
 */
function tidy(node: Element): Element {
  node.querySelectorAll('style').forEach((s) => s.remove());
  for (const svg of [node, ...node.querySelectorAll('svg')].filter((n): n is SVGSVGElement => n instanceof SVGSVGElement)) {
    svg.style.maxWidth = '100%';
    svg.style.height = 'auto';
    svg.style.display = 'block';
    svg.style.overflow = 'visible';
  }
  return node;
}

function build(spec: ChartSpec): Element[] {
  switch (spec.type) {
    case 'frequencies':
      return frequencies(spec);
    case 'co-occurrence':
      return [heatmap(spec.codes as string[], spec.cells as Cell[], { x: 'b', y: 'a', fill: 'jaccard', label: (d) => String(d.both), title: (d) => `${d.a} with ${d.b}\nboth: ${d.both}\nJaccard: ${num(d.jaccard, 3)}\nlift: ${num(d.lift)}`, legend: 'Jaccard index' })];
    case 'transitions':
      return transitions(spec);
    case 'compare':
      return [compare(spec)];
    case 'time-budget':
      return [timeBudget(spec)];
    default:
      throw new Error(`unknown chart ${spec.type}`);
  }
}

function frequencies(spec: ChartSpec): Element[] {
  const groups = spec.groups as Array<{ group: string; effort: number }>;
  const behaviours = (spec.behaviours as Array<{ code: string; name: string }>).map((b) => b.code);
  const cells = spec.cells as Cell[];
  const order = groups.map((g) => g.group).sort();
  const effort = Plot.plot({
    title: 'Effort: observations coded at all',
    marginLeft: 200,
    height: 30 + 18 * groups.length,
    x: { label: 'observations coded', grid: true },
    y: { label: null, domain: order },
    marks: [
      Plot.barX(groups, { y: 'group', x: 'effort', fill: '#8a8a8a', tip: true, title: (d: { group: string; effort: number }) => `${d.group}\neffort: ${d.effort}` }),
      Plot.text(groups, { y: 'group', x: 'effort', text: (d: { effort: number }) => d.effort.toLocaleString('en'), textAnchor: 'start', dx: 4 }),
      Plot.ruleX([0]),
    ],
  });
  const rates = Plot.plot({
    title: 'Rate: observations showing each behaviour over effort',
    marginLeft: 200,
    marginRight: 90,
    height: 40 + order.length * (behaviours.length * 13 + 10),
    fy: { label: null, domain: order, padding: 0.15 },
    y: { label: null, domain: behaviours, axis: null },
    x: { label: 'rate (bar) with 95% interval (line)', grid: true, tickFormat: '%' },
    color: { domain: behaviours, legend: true },
    marks: [
      Plot.barX(cells, { fy: 'group', y: 'behaviour', x: 'rate', fill: 'behaviour', tip: true, title: (d: Cell) => `${d.group}\n${d.behaviour}: ${d.count} of ${d.effort} (${pct(d.rate)})\n95%: ${pct(d.low)} – ${pct(d.high)}` }),
      Plot.ruleY(cells, { fy: 'group', y: 'behaviour', x1: 'low', x2: 'high', stroke: 'currentColor' }),
      Plot.text(cells, { fy: 'group', y: 'behaviour', x: 'high', text: (d: Cell) => `${d.behaviour} ${pct(d.rate)}`, textAnchor: 'start', dx: 4, fontSize: 9 }),
      Plot.text(groups, { fy: 'group', frameAnchor: 'top-right', text: (d: { effort: number }) => `n = ${d.effort.toLocaleString('en')}`, dy: -2, fontSize: 9 }),
      Plot.ruleX([0]),
    ],
  });
  return [effort, rates];
}

interface HeatOptions { x: string; y: string; fill: string; label: (d: Cell) => string; title: (d: Cell) => string; legend: string; marked?: (d: Cell) => boolean }

/** A matrix as cells with the number written in each; marked cells get a thick outline (and the caller's symbol). */
function heatmap(codes: string[], cells: Cell[], o: HeatOptions): Element {
  const size = Math.max(22, Math.min(34, Math.floor(900 / Math.max(1, codes.length))));
  return Plot.plot({
    width: 120 + size * codes.length,
    height: 120 + size * codes.length,
    marginLeft: 110,
    marginBottom: 100,
    padding: 0.04,
    x: { domain: codes, label: o.x === 'to' ? 'to →' : null, tickRotate: -50 },
    y: { domain: codes, label: o.y === 'from' ? '↓ from' : null },
    color: { scheme: 'blues', legend: true, label: o.legend },
    marks: [
      Plot.cell(cells, { x: o.x, y: o.y, fill: o.fill, tip: true, title: o.title, inset: 0.5 }),
      ...(o.marked ? [Plot.cell(cells.filter(o.marked), { x: o.x, y: o.y, fill: 'none', stroke: 'currentColor', strokeWidth: 3 })] : []),
      Plot.text(cells, { x: o.x, y: o.y, text: o.label, fill: 'black', stroke: 'white', strokeWidth: 3, paintOrder: 'stroke', fontSize: size > 26 ? 10 : 8 }),
    ],
  });
}

function transitions(spec: ChartSpec): Element[] {
  const codes = spec.codes as string[];
  const cells = spec.cells as Cell[];
  const flag = (d: Cell) => (d.significant ? '**' : d.nominal ? '*' : '');
  const matrix = heatmap(codes, cells, {
    x: 'to',
    y: 'from',
    fill: 'count',
    label: (d) => `${d.count}${flag(d)}`,
    title: (d) => `${d.from} → ${d.to}\ncount: ${d.count}\nexpected: ${num(d.expected, 1)}\np: ${pv(d.p)}, adjusted: ${pv(d.pAdjusted)}${d.significant ? '\nexceeds chance' : ''}`,
    legend: 'transitions (count)',
    marked: (d) => d.significant === true,
  });
  return [matrix, flow(codes, cells)];
}

/** Behaviours on a circle, arrows from one to the next whose width is the count; significant ones labelled. */
function flow(codes: string[], cells: Cell[]): Element {
  const at = new Map(codes.map((c, i) => [c, { x: Math.cos((2 * Math.PI * i) / codes.length - Math.PI / 2), y: Math.sin((2 * Math.PI * i) / codes.length - Math.PI / 2) }]));
  const links = cells
    .filter((c) => c.from !== c.to)
    .sort((a, b) => (b.count as number) - (a.count as number))
    .slice(0, 40)
    .map((c): Cell => ({ ...c, x1: at.get(c.from as string)!.x, y1: at.get(c.from as string)!.y, x2: at.get(c.to as string)!.x, y2: at.get(c.to as string)!.y }));
  const max = Math.max(1, ...links.map((l) => l.count as number));
  const nodes = codes.map((code) => ({ code, ...at.get(code)! }));
  const labelled = links.filter((l) => l.significant || l.nominal);
  return Plot.plot({
    title: `Flow: the ${links.length} most frequent transitions between different behaviours (width: count; ** exceeds chance, * before correction)`,
    width: 640,
    height: 640,
    inset: 60,
    x: { axis: null, domain: [-1, 1] },
    y: { axis: null, domain: [-1, 1] },
    marks: [
      Plot.arrow(links, {
        x1: 'x1', y1: 'y1', x2: 'x2', y2: 'y2', bend: true, inset: 16,
        strokeWidth: (d: Cell) => 1 + (7 * (d.count as number)) / max,
        stroke: (d: Cell) => (d.significant ? 'significant' : d.nominal ? 'before correction' : 'not significant'),
        strokeOpacity: 0.75,
        title: (d: Cell) => `${d.from} → ${d.to}: ${d.count} (expected ${num(d.expected, 1)}, p ${pv(d.p)}, adjusted ${pv(d.pAdjusted)})`,
        tip: true,
      }),
      Plot.text(labelled, { x: (d: Cell) => ((d.x1 as number) + (d.x2 as number)) / 2, y: (d: Cell) => ((d.y1 as number) + (d.y2 as number)) / 2, text: (d: Cell) => `${d.count}${d.significant ? '**' : '*'}`, fill: 'black', stroke: 'white', strokeWidth: 3, paintOrder: 'stroke', fontWeight: 'bold' }),
      Plot.dot(nodes, { x: 'x', y: 'y', r: 16, fill: 'white', stroke: 'currentColor' }),
      Plot.text(nodes, { x: 'x', y: 'y', text: 'code', dy: (nodes.length > 0 ? -24 : 0), fontWeight: 'bold' }),
    ],
    color: { domain: ['significant', 'before correction', 'not significant'], range: ['#b2182b', '#ef8a62', '#999999'], legend: true },
  });
}

function compare(spec: ChartSpec): Element {
  const rows = spec.rows as Cell[];
  const behaviour = (spec.behaviour as { code: string }).code;
  return Plot.plot({
    title: `${behaviour}: rate per model and version (dot), Wilson 95% interval (line), effort n`,
    marginLeft: 260,
    marginRight: 80,
    height: 40 + 24 * rows.length,
    x: { domain: [0, 1], tickFormat: '%', grid: true, label: 'observations showing it / observations coded' },
    y: { label: null, domain: rows.map((r) => r.label as string) },
    marks: [
      Plot.ruleY(rows, { y: 'label', x1: 'low', x2: 'high', strokeWidth: 2 }),
      Plot.dot(rows, { y: 'label', x: 'rate', r: 4, fill: 'currentColor', tip: true, title: (d: Cell) => `${d.label}\n${d.count} of ${d.effort} (${pct(d.rate)})\n95%: ${pct(d.low)} – ${pct(d.high)}` }),
      Plot.text(rows, { y: 'label', x: 'high', text: (d: Cell) => `${pct(d.rate)}  n = ${(d.effort as number).toLocaleString('en')}`, textAnchor: 'start', dx: 6 }),
    ],
  });
}

function timeBudget(spec: ChartSpec): Element {
  const rows = spec.rows as Cell[];
  const observers = [...new Set(rows.map((r) => r.observer as string))];
  return Plot.plot({
    title: 'Share of each observer\'s session time per state behaviour',
    marginLeft: 160,
    height: 50 + 36 * observers.length,
    x: { tickFormat: '%', grid: true, label: 'share of session time (stacked; states may overlap)' },
    y: { label: null, domain: observers },
    color: { legend: true },
    marks: [
      Plot.barX(rows, { y: 'observer', x: 'share', fill: 'behaviour', stroke: 'white', tip: true, title: (d: Cell) => `${d.observer}\n${d.behaviour} (${d.name}): ${pct(d.share)}, ${((d.seconds as number) / 60).toFixed(1)} min` }),
      Plot.text(rows, Plot.stackX({ y: 'observer', x: 'share', z: 'behaviour', text: (d: Cell) => ((d.share as number) >= 0.04 ? d.behaviour as string : ''), fill: 'black', stroke: 'white', strokeWidth: 3, paintOrder: 'stroke', fontSize: 9 })),
      Plot.ruleX([0]),
    ],
  });
}

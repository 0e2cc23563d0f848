/**
 * Heat map geometry (partial `experiments/picture-heatmap`): a grid of cells coloured by a scale, labelled axes, a
 * colour legend, each cell's value printed when the cells are big enough and always in the table beside it.
 * Diverging scales also mark negative cells with a dotted overlay, so the sign does not rest on colour.
 */
import { type ColourScale, type LegendView, inkOn, legend, num, round } from './scale.ts';
import { type TableView, table, th, tx } from './table.ts';

export interface AxisLabel { text: string; title: string }

export interface HeatmapInput {
  /** Unique on the page: prefixes the SVG's ids. */
  id: string;
  /** The SVG's title: what it shows, in words. */
  title: string;
  rows: AxisLabel[];
  columns: AxisLabel[];
  /** Names of the axes ("query token", "key token"). */
  rowAxis: string;
  columnAxis: string;
  /** [row][column]; null for no value. */
  values: (number | null)[][];
  scale: ColourScale;
  /** Decimals in the table (default 3). */
  digits?: number;
  /** A cell's tooltip (default: row, column and value). */
  cellTitle?: (row: number, column: number, value: number | null) => string;
  /** Under the picture: what was left out, how to read it. */
  notes?: string[];
  tableCaption: string;
  /** Cells get a tooltip only up to this many cells (default 1024), to keep pages small; the table has them all. */
  titleLimit?: number;
}

export interface HeatmapCell { x: number; y: number; size: number; fill: string; ink: string; text: string; textX: number; textY: number; title: string; neg: boolean }

export interface HeatmapView {
  id: string;
  titleId: string;
  title: string;
  width: number;
  height: number;
  /** Rows × columns, for people and tests. */
  rowCount: number;
  columnCount: number;
  cells: HeatmapCell[];
  rowLabels: { x: number; y: number; text: string; title: string }[];
  columnLabels: { x: number; y: number; text: string; title: string }[];
  labelSize: number;
  valueSize: number;
  rowAxis: { text: string; x: number; y: number };
  columnAxis: { text: string; x: number; y: number };
  legend: LegendView;
  negativePatternId: string;
  hasNegative: boolean;
  notes: string[];
  table: TableView;
}

const GRID = 600;
const MIN_CELL = 9;
const MAX_CELL = 44;
/** Cells at least this big print their value. */
const PRINT_CELL = 34;

/** A value printed in its cell: two decimals (the table has more); exact zeros as 0. */
const cellText = (v: number | null) => (v === null ? '—' : v === 0 ? '0' : Number.isFinite(v) ? v.toFixed(2) : num(v));

const longest = (labels: AxisLabel[]) => labels.reduce((m, l) => Math.max(m, Array.from(l.text).length), 0);

export function heatmap(input: HeatmapInput): HeatmapView {
  const { rows, columns, values, scale } = input;
  const n = rows.length;
  const m = columns.length;
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(GRID / Math.max(1, n, m))));
  const labelSize = Math.max(8, Math.min(12, cell - 1));
  const charWidth = labelSize * 0.62;
  const rowLabelWidth = Math.min(150, 10 + charWidth * longest(rows));
  const columnLabelHeight = Math.min(120, 10 + charWidth * 0.85 * longest(columns));
  const left = Math.round(22 + rowLabelWidth);
  const top = Math.round(22 + columnLabelHeight);
  const gridWidth = m * cell;
  const gridHeight = n * cell;
  const print = cell >= PRINT_CELL;
  const digits = input.digits ?? 3;
  const withTitles = n * m <= (input.titleLimit ?? 1024);
  const describe = input.cellTitle ?? ((r: number, c: number, v: number | null) => `${rows[r]!.title}, ${columns[c]!.title}: ${num(v, digits)}`);
  const cells: HeatmapCell[] = [];
  let hasNegative = false;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < m; c++) {
      const v = values[r]?.[c] ?? null;
      const fill = scale.colour(v);
      // Printed values carry their sign; small cells mark negatives with a dotted overlay instead.
      const neg = !print && scale.kind === 'diverging' && v !== null && v < 0;
      if (neg) hasNegative = true;
      const x = left + c * cell;
      const y = top + r * cell;
      cells.push({
        x, y, size: cell, fill, ink: inkOn(fill),
        text: print ? cellText(v) : '',
        textX: round(x + cell / 2), textY: round(y + cell / 2 + 4),
        title: withTitles ? describe(r, c, v) : '',
        neg,
      });
    }
  }
  const legendWidth = Math.min(240, Math.max(160, gridWidth));
  const lg = legend(scale, input.id, left, top + gridHeight + 30, legendWidth);
  if (!hasNegative) lg.negativeNote = '';
  const legendText = Array.from(lg.label).length + (lg.negativeNote ? Array.from(lg.negativeNote).length + 3 : 0);
  return {
    id: input.id,
    titleId: `${input.id}-title`,
    title: input.title,
    width: Math.ceil(left + Math.max(gridWidth + columnLabelHeight * 0.7, legendWidth + 30, legendText * 6.2) + 12),
    height: Math.ceil(lg.y + lg.height + 22),
    rowCount: n,
    columnCount: m,
    cells,
    rowLabels: rows.map((l, r) => ({ x: left - 5, y: round(top + r * cell + cell / 2 + labelSize / 3), text: l.text, title: l.title })),
    columnLabels: columns.map((l, c) => ({ x: round(left + c * cell + cell / 2 + labelSize / 3), y: top - 5, text: l.text, title: l.title })),
    labelSize,
    valueSize: Math.min(11, Math.max(8, Math.floor(cell / 3.4))),
    rowAxis: { text: `${input.rowAxis} ↓`, x: 12, y: round(top + gridHeight / 2) },
    columnAxis: { text: `${input.columnAxis} →`, x: left, y: 12 },
    legend: lg,
    negativePatternId: `${input.id}-neg`,
    hasNegative,
    notes: input.notes ?? [],
    table: table(
      input.tableCaption,
      [{ text: `${input.rowAxis} \\ ${input.columnAxis}` }, ...columns.map((c) => ({ text: c.text, title: c.title, num: true }))],
      rows.map((r, i) => [th(r.text, r.title), ...columns.map((_, j) => tx(num(values[i]?.[j] ?? null, digits)))]),
      { cls: 'pic-matrix' },
    ),
  };
}

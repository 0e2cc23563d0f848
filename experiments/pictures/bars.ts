/**
 * Horizontal bar chart geometry (partial `experiments/picture-bars`): one labelled bar per item from a zero line,
 * its value printed at its end. Negative bars are hatched and their values carry a minus sign, so the sign does not
 * rest on colour.
 */
import { formatTick, num, round, signed } from './scale.ts';

export interface BarItem { label: string; title: string; value: number }

export interface BarsInput {
  id: string;
  title: string;
  items: BarItem[];
  /** Decimals of the printed values (default 3). */
  digits?: number;
  /** Print signs (+/−) on the values (default: when some value is negative). */
  signed?: boolean;
  /** What the axis measures. */
  axisLabel: string;
  /** The axis reaches at least this far (probabilities: 1), so bars are comparable across runs. */
  domainMax?: number;
  /** A dashed reference line (a threshold). */
  reference?: { value: number; label: string };
}

export interface BarsView {
  id: string;
  titleId: string;
  title: string;
  width: number;
  height: number;
  hatchId: string;
  zero: number;
  plotTop: number;
  plotBottom: number;
  bars: { x: number; y: number; width: number; height: number; neg: boolean; title: string; valueText: string; valueX: number; valueY: number; anchor: 'start' | 'end' }[];
  labels: { x: number; y: number; text: string; title: string }[];
  ticks: { x: number; y: number; text: string }[];
  axis: { text: string; x: number; y: number };
  reference: { x: number; text: string; textY: number } | null;
  hasNegative: boolean;
}

const ROW = 20;
const BAR = 13;
const TOP = 22;
const PLOT = 360;

export function bars(input: BarsInput): BarsView {
  const { items } = input;
  const digits = input.digits ?? 3;
  const finite = items.map((b) => b.value).filter(Number.isFinite);
  if (input.reference && Number.isFinite(input.reference.value)) finite.push(input.reference.value);
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, input.domainMax ?? 0, ...finite);
  if (lo === hi) hi = 1;
  const hasNegative = lo < 0;
  const withSign = input.signed ?? hasNegative;
  const text = (v: number) => (withSign ? signed(v, digits) : num(v, digits));
  const labelWidth = Math.min(180, 12 + 7 * items.reduce((m, b) => Math.max(m, Array.from(b.label).length), 0));
  const negRoom = hasNegative ? 64 : 0;
  const plotLeft = labelWidth + negRoom;
  const x = (v: number) => plotLeft + ((v - lo) / (hi - lo)) * PLOT;
  const zero = x(0);
  const plotBottom = TOP + items.length * ROW;
  const barViews = items.map((b, i) => {
    const y = TOP + i * ROW + (ROW - BAR) / 2;
    const v = Number.isFinite(b.value) ? b.value : 0;
    const end = x(v);
    const neg = v < 0;
    return {
      x: round(Math.min(zero, end)), y: round(y), width: round(Math.max(1, Math.abs(end - zero))), height: BAR, neg,
      title: b.title, valueText: Number.isFinite(b.value) ? text(b.value) : num(b.value),
      valueX: round(neg ? Math.min(zero, end) - 4 : Math.max(zero, end) + 4), valueY: round(y + BAR - 2), anchor: neg ? ('end' as const) : ('start' as const),
    };
  });
  const tickValues = [lo, 0, hi].filter((v, i, all) => all.indexOf(v) === i);
  return {
    id: input.id,
    titleId: `${input.id}-title`,
    title: input.title,
    width: Math.ceil(plotLeft + PLOT + 80),
    height: plotBottom + 40,
    hatchId: `${input.id}-hatch`,
    zero: round(zero),
    plotTop: TOP - 4,
    plotBottom,
    bars: barViews,
    labels: items.map((b, i) => ({ x: labelWidth - 6, y: round(TOP + i * ROW + ROW / 2 + 4), text: b.label, title: b.title })),
    ticks: tickValues.map((v) => ({ x: round(x(v)), y: plotBottom + 16, text: formatTick(v) })),
    axis: { text: input.axisLabel, x: round(plotLeft + PLOT / 2), y: plotBottom + 32 },
    reference: input.reference && Number.isFinite(input.reference.value)
      ? { x: round(x(input.reference.value)), text: input.reference.label, textY: TOP - 8 }
      : null,
    hasNegative,
  };
}

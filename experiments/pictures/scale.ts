/**
 * Shared helpers for the experiment pictures: colour scales (with the legend the template draws), probability bins
 * for HTML table cells (the page's Content-Security-Policy forbids inline styles, so table cells are coloured by CSS
 * class, SVG marks by their `fill` attribute), number formatting, token labels and axis caps.
 */

/** At most this many tokens (positions) along any axis of a picture; the rest is left out and said so. */
export const MAX_AXIS = 64;

type Rgb = [number, number, number];

/** White to dark blue: luminance falls steadily, so the order survives grey-scale printing and colour blindness. */
const SEQUENTIAL = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];
/** Red (negative), white (0), blue (positive). */
const DIVERGING = ['#b2182b', '#ef8a62', '#fddbc7', '#f7f7f7', '#d1e5f0', '#67a9cf', '#2166ac'];
/** Cells without a value. */
export const MISSING_FILL = '#d9dee5';

const hexToRgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
const rgbToHex = (c: Rgb) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

function interpolate(stops: string[], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const a = hexToRgb(stops[i]!);
  const b = hexToRgb(stops[i + 1]!);
  const f = x - i;
  return rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
}

/** Relative luminance (WCAG) of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = hexToRgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const INK = '#1d232b';
const INK_LUMINANCE = luminance(INK);

/** Text colour that reads on a fill: dark ink or white, whichever contrasts more (WCAG contrast ratio). */
export function inkOn(fill: string): string {
  const l = luminance(fill);
  return (1.05) / (l + 0.05) > (l + 0.05) / (INK_LUMINANCE + 0.05) ? '#ffffff' : INK;
}

export interface ColourScale {
  kind: 'sequential' | 'diverging';
  min: number;
  max: number;
  /** What the colour measures, for the legend ("attention weight"). */
  label: string;
  colour(v: number | null): string;
  /** Legend ticks (values). */
  ticks: number[];
  stops: string[];
}

/** Light (min) to dark (max). */
export function sequentialScale(min: number, max: number, label: string): ColourScale {
  const span = max - min || 1;
  return {
    kind: 'sequential', min, max, label, stops: SEQUENTIAL,
    colour: (v) => (v === null || !Number.isFinite(v) ? MISSING_FILL : interpolate(SEQUENTIAL, (v - min) / span)),
    ticks: [min, (min + max) / 2, max],
  };
}

/** Red for negative, white at 0, blue for positive, symmetric over [-extent, extent]. */
export function divergingScale(extent: number, label: string): ColourScale {
  const e = extent > 0 && Number.isFinite(extent) ? extent : 1;
  return {
    kind: 'diverging', min: -e, max: e, label, stops: DIVERGING,
    colour: (v) => (v === null || !Number.isFinite(v) ? MISSING_FILL : interpolate(DIVERGING, (v + e) / (2 * e))),
    ticks: [-e, 0, e],
  };
}

/** The largest absolute value (0 for none). */
export function maxAbs(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

export interface LegendView {
  gradientId: string;
  x: number;
  y: number;
  width: number;
  height: number;
  stops: { offset: string; colour: string }[];
  ticks: { x: number; y: number; text: string }[];
  label: string;
  labelX: number;
  labelY: number;
  /** Diverging scales: negative cells also carry a dotted overlay (told in words here). */
  negativeNote: string;
}

/** A horizontal colour bar from the scale's min to max with its ticks, for the SVG that draws the picture. */
export function legend(scale: ColourScale, id: string, x: number, y: number, width = 220): LegendView {
  const height = 10;
  const at = (v: number) => round(x + ((v - scale.min) / (scale.max - scale.min || 1)) * width);
  return {
    gradientId: `${id}-scale`,
    x, y, width, height,
    stops: scale.stops.map((colour, i) => ({ offset: `${Math.round((i / (scale.stops.length - 1)) * 100)}%`, colour })),
    ticks: scale.ticks.map((v) => ({ x: at(v), y: y + height + 12, text: formatTick(v) })),
    label: scale.label,
    labelX: x,
    labelY: y - 5,
    negativeNote: scale.kind === 'diverging' ? 'dotted cells are negative' : '',
  };
}

/** A tick label: up to three significant digits. */
export const formatTick = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/** Ten probability bins, CSS classes pic-p0 … pic-p9 (colours of the sequential scale, in client/styles.css). */
export function probBin(p: number): string {
  const bin = Number.isFinite(p) ? Math.min(9, Math.max(0, Math.floor(p * 10))) : 0;
  return `pic-p${bin}`;
}

/** The legend of the probability bins, as HTML swatches. */
export const probBins = Array.from({ length: 10 }, (_, i) => ({ cls: `pic-p${i}`, text: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}` }));

/** A number for people: `digits` decimals; tiny non-zero values in exponent form; exact zeros as "0". */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  if (Math.abs(v) < 0.5 * 10 ** -digits) return v.toExponential(1);
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A signed number with its sign spelled out (+ or −), so the sign does not rest on colour. */
export function signed(v: number, digits = 3): string {
  const s = num(Math.abs(v), digits);
  return v < 0 ? `−${s}` : `+${s}`;
}

/** A token's text made visible: spaces as ␣, newlines as ↵, other control characters as \uXXXX; shortened to `max`. */
export function tokenLabel(text: string, max = 12): string {
  if (/^\[id \d+\]$/.test(text)) return text; // the engine's text for embedding rows the tokenizer does not know
  let s = text
    .replace(/ /g, '␣')
    .replace(/\n/g, '↵')
    .replace(/\r/g, '␍')
    .replace(/\t/g, '⇥')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (s === '') s = '∅';
  const chars = Array.from(s);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

/** A token's text quoted exactly (JSON), for titles and tables. */
export const quoted = (text: string) => JSON.stringify(text);

/** A position's label on an axis: its index and its token. */
export const positionLabel = (position: number, text: string | undefined, max = 10) => `${position} ${tokenLabel(text ?? '?', max)}`;

export interface AxisCut {
  /** Indices kept, in order. */
  kept: number[];
  /** How many were left out. */
  leftOut: number;
}

/** Keeps at most `max` of `length` indices: the first ones, or the last ones. */
export function capAxis(length: number, max: number, keep: 'first' | 'last' = 'first'): AxisCut {
  if (length <= max) return { kept: range(length), leftOut: 0 };
  const start = keep === 'first' ? 0 : length - max;
  return { kept: range(max).map((i) => start + i), leftOut: length - max };
}

export const range = (n: number) => Array.from({ length: Math.max(0, n) }, (_, i) => i);

export const round = (v: number) => Math.round(v * 10) / 10;

/** "1 token", "3 tokens". */
export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

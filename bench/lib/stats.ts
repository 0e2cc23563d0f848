/** Percentile of a sample (nearest-rank). */
export function percentile(values: number[], p: number): number {
  // Failed requests leave holes (no latency): they are counted as errors, not as fast answers.
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Figure { name: string; value: number; unit: string; baselineName: string; baseline: number; target: string; pass: boolean }

/** Prints a figure beside its same-run baseline and the ratio, and whether the target is met. */
export function printFigures(figures: Figure[]): void {
  const rows = figures.map((f) => [
    f.name,
    `${fmt(f.value)} ${f.unit}`,
    `${f.baselineName}: ${fmt(f.baseline)} ${f.unit}`,
    `ratio ${(f.value / f.baseline).toFixed(2)}`,
    `target ${f.target}`,
    f.pass ? 'PASS' : 'MISS',
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

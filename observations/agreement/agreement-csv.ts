import type { AgreementReport, AgreementRow, ClassifierRow, Figure } from './agreement-report.ts';

/** The CSV's columns, in order: one row per (unit, behaviour, statistic, coder pair or classifier). */
export const AGREEMENT_CSV_COLUMNS = [
  'unit',
  'behaviour_code',
  'behaviour_name',
  'statistic',
  'coder_a',
  'coder_a_id',
  'coder_b',
  'coder_b_id',
  'classifier',
  'classifier_id',
  'value',
  'n',
  'n_counts',
  'true_positive',
  'false_positive',
  'false_negative',
  'true_negative',
  'undefined_because',
] as const;

type Column = (typeof AGREEMENT_CSV_COLUMNS)[number];
type Cell = string | number | null;

/**
 * One CSV cell: numbers as they are; text quoted when it holds a comma, quote or line break (RFC 4180), and, when it
 * begins with = + - @ (or a tab or carriage return), prefixed with an apostrophe so a spreadsheet shows it as text
 * instead of running it as a formula (names come from users).
 */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The report as CSV (CRLF line ends, a header row): the people's figures per unit level and behaviour (`(all)` is
 * the pooled overall), Cohen's kappa once per coder pair, then each classifier's precision, recall and F1 with the
 * confusion counts, at observation level then span level. An undefined figure has an empty value and says why in `undefined_because`.
 */
export function agreementCsv(report: AgreementReport): string {
  const lines: string[] = [AGREEMENT_CSV_COLUMNS.join(',')];
  const push = (cells: Partial<Record<Column, Cell>>) => lines.push(AGREEMENT_CSV_COLUMNS.map((c) => csvCell(cells[c] ?? null)).join(','));
  const figureCells = (f: Figure) => ({ value: f.value, n: f.n, n_counts: f.nMeaning, undefined_because: f.reason });

  const people = (row: AgreementRow) => {
    const base = { unit: row.unit, behaviour_code: row.behaviour?.code ?? '(all)', behaviour_name: row.behaviour?.name ?? 'All behaviours pooled' };
    push({ ...base, statistic: 'percent_agreement', ...figureCells(row.percentAgreement) });
    push({ ...base, statistic: 'krippendorff_alpha_nominal', ...figureCells(row.alpha) });
    push({ ...base, statistic: 'fleiss_kappa', ...figureCells(row.fleiss) });
    for (const p of row.cohen) {
      push({ ...base, statistic: 'cohen_kappa', coder_a: p.coderA.name, coder_a_id: p.coderA.id, coder_b: p.coderB.name, coder_b_id: p.coderB.id, ...figureCells(p.kappa) });
    }
  };
  for (const level of [report.observation, report.span]) {
    people(level.overall);
    for (const row of level.behaviours) people(row);
  }

  for (const comparison of report.classifiers) {
    const machine = (row: ClassifierRow) => {
      const base = {
        unit: row.unit, behaviour_code: row.behaviour?.code ?? '(all)', behaviour_name: row.behaviour?.name ?? 'All behaviours pooled',
        classifier: comparison.classifier.name, classifier_id: comparison.classifier.id,
        true_positive: row.truePositive, false_positive: row.falsePositive, false_negative: row.falseNegative, true_negative: row.trueNegative,
      };
      push({ ...base, statistic: 'precision', ...figureCells(row.precision) });
      push({ ...base, statistic: 'recall', ...figureCells(row.recall) });
      push({ ...base, statistic: 'f1', ...figureCells(row.f1) });
    };
    for (const row of [comparison.overall, ...comparison.behaviours, comparison.span.overall, ...comparison.span.behaviours]) machine(row);
  }
  return lines.join('\r\n') + '\r\n';
}

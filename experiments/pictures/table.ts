/**
 * The tables that carry every picture's numbers (partial `experiments/picture-table`). Cells are plain text; the
 * template escapes them. Big tables are folded into a `<details>` element.
 */

export interface TableCell {
  text: string;
  /** A second line in small type (a probability under a token, a rank under a probability). */
  sub?: string;
  /** CSS classes: `num` right-aligns numbers; `pic-pN` colours by probability bin. */
  cls?: string;
  title?: string;
  /** A row header (`<th scope="row">`). */
  header?: boolean;
}

export interface TableColumn { text: string; title?: string; num?: boolean }

export interface TableView {
  caption: string;
  columns: TableColumn[];
  rows: { cells: TableCell[] }[];
  /** Folded into `<details>` with this summary (null: shown open). */
  summary: string | null;
  /** What was left out, in words. */
  note: string;
  cls: string;
}

/** Tables with more rows × columns than this are folded. */
const FOLD_CELLS = 40;

export function table(caption: string, columns: TableColumn[], rows: TableCell[][], opts: { fold?: boolean; note?: string; cls?: string; summary?: string } = {}): TableView {
  const cells = rows.length * columns.length;
  const fold = opts.fold ?? cells > FOLD_CELLS;
  return {
    caption,
    columns,
    rows: rows.map((cells) => ({ cells })),
    summary: fold ? (opts.summary ?? `The numbers: ${caption.charAt(0).toLowerCase()}${caption.slice(1)}`) : null,
    note: opts.note ?? '',
    cls: opts.cls ?? '',
  };
}

/** A header cell for a row. */
export const th = (text: string, title?: string): TableCell => ({ text, header: true, ...(title ? { title } : {}) });
/** A number cell. */
export const td = (text: string, extra: Partial<TableCell> = {}): TableCell => ({ text, cls: 'num', ...extra });
/** A text cell. */
export const tx = (text: string, extra: Partial<TableCell> = {}): TableCell => ({ text, ...extra });

/**
 * What every technique's picture presenter has in common: it receives the parsed result (already checked against
 * the technique's result schema) and the page's choice, and returns the partial to render with its view.
 */
import type { ResultDocument } from '../techniques/run-technique.ts';
import type { Technique } from '../techniques/technique.ts';

export interface PictureView { partial: string; view: Record<string, unknown>; caption: string }

export interface PictureChoice { run: number; layer?: number; head?: number }

export interface PictureContext extends PictureChoice {
  /** A prefix for the SVG ids of this picture, unique per run on a page. */
  id: string;
  document: ResultDocument;
}

export interface Presenter<R> {
  /** The technique drawn: its name, schema version and result schema. */
  technique: Technique<any, R>;
  present(result: R, ctx: PictureContext): PictureView;
}

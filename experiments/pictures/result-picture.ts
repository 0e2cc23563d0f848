/**
 * The picture of a run's result document, for the experiment page: one presenter per technique (`*.picture.ts`)
 * computes the geometry and numbers, a handlebars partial under server/views/partials/experiments/ draws them
 * (SVG, no script). The page renders `{{> (lookup picture "partial") picture.view}}`.
 *
 * Never throws: an unknown technique, another schema version, a result its schema refuses or a presenter failure
 * give the `experiments/raw` picture (a bounded JSON excerpt) with the reason.
 */
import type { ResultDocument } from '../techniques/run-technique.ts';
import { ablationPicture } from './ablation.picture.ts';
import { attentionPicture } from './attention.picture.ts';
import { cachePicture } from './cache.picture.ts';
import { dlaPicture } from './dla.picture.ts';
import { generatePicture } from './generate.picture.ts';
import { glitchTokensPicture } from './glitch-tokens.picture.ts';
import { headScoresPicture } from './head-scores.picture.ts';
import { logitLensPicture } from './logit-lens.picture.ts';
import { patchingPicture } from './patching.picture.ts';
import type { PictureChoice, PictureView, Presenter } from './picture.ts';
import { rawPicture } from './raw.picture.ts';
import { steeringPicture } from './steering.picture.ts';

export type { PictureView } from './picture.ts';

const presenters: Presenter<any>[] = [
  attentionPicture,
  patchingPicture,
  logitLensPicture,
  dlaPicture,
  steeringPicture,
  glitchTokensPicture,
  ablationPicture,
  headScoresPicture,
  cachePicture,
  generatePicture,
];

/** The partial of every picture (the fallback included), for checks that they exist. */
export const picturePartials = [...presenters.map((p) => `experiments/${p.technique.name}`), 'experiments/raw'];

/** The picture of a run's result document; `choice` carries the page's query (layer, head) and the run number. */
export function resultPicture(document: ResultDocument, choice: { run: number; layer?: number; head?: number }): PictureView {
  try {
    if (!document || typeof document !== 'object') return rawPicture(document, 'This run has no result document to draw.');
    const p = presenters.find((x) => x.technique.name === document.technique);
    if (!p) return rawPicture(document, `There is no picture for the technique "${String(document.technique)}"; here is its result document.`);
    if (document.schemaVersion !== p.technique.schemaVersion) {
      return rawPicture(document, `This result has schema version ${String(document.schemaVersion)}; the pictures draw version ${p.technique.schemaVersion} of ${p.technique.name}. Here is the result document.`);
    }
    const parsed = p.technique.result.safeParse(document.result);
    if (!parsed.success) {
      const problems = parsed.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : 'result'}: ${i.message}`);
      const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : '';
      return rawPicture(document, `The result does not match the ${p.technique.name} result schema (${problems.join('; ')}${more}), so it is shown as JSON.`);
    }
    const run = Number.isSafeInteger(choice?.run) ? choice.run : 0;
    const ctx: PictureChoice & { id: string; document: ResultDocument } = {
      run,
      ...(Number.isInteger(choice?.layer) ? { layer: choice.layer! } : {}),
      ...(Number.isInteger(choice?.head) ? { head: choice.head! } : {}),
      id: `pic-run${run}-${p.technique.name}`,
      document,
    };
    return p.present(parsed.data, ctx);
  } catch (err) {
    return rawPicture(document, `The picture could not be drawn (${(err as Error)?.message ?? String(err)}); here is the result document.`);
  }
}

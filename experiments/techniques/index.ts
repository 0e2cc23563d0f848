import { ablationTechnique } from './ablation.ts';
import { attentionTechnique } from './attention.ts';
import { cacheTechnique } from './cache.ts';
import { dlaTechnique } from './dla.ts';
import { generateTechnique } from './generate.ts';
import { glitchTokensTechnique } from './glitch-tokens.ts';
import { headScoresTechnique } from './head-scores.ts';
import { logitLensTechnique } from './logit-lens.ts';
import { patchingTechnique } from './patching.ts';
import { steeringTechnique } from './steering.ts';
import type { Technique } from './technique.ts';

/**
 * Every technique, by name (the names used on the command line and in the API). Each technique lives in its own
 * file in this folder and is added here with one line.
 */
export const techniques: Technique<any, any>[] = [
  cacheTechnique,
  logitLensTechnique,
  attentionTechnique,
  dlaTechnique,
  patchingTechnique,
  ablationTechnique,
  headScoresTechnique,
  steeringTechnique,
  glitchTokensTechnique,
  generateTechnique,
];

export function findTechnique(name: string): Technique<any, any> | undefined {
  return techniques.find((t) => t.name === name);
}

import { seededRandom } from './folds.ts';
import type { TrainingExample } from './offline-classifier.ts';

/**
 * A generated corpus where the right answer is known, for tests and timing: texts of pseudo-words drawn from a
 * Zipf-like distribution (like natural text, a few words are very common), and for each behaviour a handful of
 * marker words. A text has a behaviour exactly when it contains one of that behaviour's markers, so a good
 * classifier can learn it perfectly; `noise` flips that share of labels to make it imperfect.
 */
export interface SyntheticCorpusOptions {
  size: number;
  /** Behaviour codes to generate, with the share of texts that have each. */
  behaviours: ReadonlyArray<{ code: string; rate: number }>;
  /** Words per text (default 60; about 2 KB is 330 words). */
  words?: number;
  /** Distinct filler words (default 3000). */
  vocabulary?: number;
  /** Marker words placed in a text that has a behaviour (default 3: a behaviour shows in several phrases). */
  markersPerText?: number;
  /** Share of texts whose labels are flipped for one behaviour (default 0). */
  noise?: number;
  seed?: number;
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vo', 'pi', 'da', 'go', 'hu', 'ze', 'bi', 'fo', 'ya', 'qui', 'tra', 'pel', 'dor', 'mun', 'sil', 'ver', 'ast'];

function pseudoWord(random: () => number, syllables: number): string {
  let w = '';
  for (let i = 0; i < syllables; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
  return w;
}

export function syntheticCorpus(options: SyntheticCorpusOptions): TrainingExample[] {
  const random = seededRandom(options.seed ?? 7);
  const wordsPerText = options.words ?? 60;
  const fillerCount = options.vocabulary ?? 3000;
  const used = new Set<string>();
  const fresh = (syllables: number) => {
    // Bounded: with too few syllable combinations left, a longer word is taken instead of looping forever.
    for (let tries = 0; ; tries++) {
      const w = pseudoWord(random, syllables + Math.floor(tries / 50));
      if (!used.has(w)) {
        used.add(w);
        return w;
      }
    }
  };
  const markers = options.behaviours.map(() => Array.from({ length: 6 }, () => fresh(4)));
  const markersPerText = options.markersPerText ?? 3;
  const filler = Array.from({ length: fillerCount }, (_, i) => fresh(i < 20 ? 1 : i < 300 ? 2 : 3 + (i % 2)));
  // Zipf-like: the r-th filler word is drawn with weight 1 / (r + 1), by inverse transform on the cumulative sum.
  const cumulative: number[] = [];
  let total = 0;
  for (let r = 0; r < fillerCount; r++) cumulative.push((total += 1 / (r + 1)));
  const drawFiller = () => {
    const target = random() * total;
    let lo = 0;
    let hi = fillerCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return filler[lo]!;
  };
  const examples: TrainingExample[] = [];
  for (let n = 0; n < options.size; n++) {
    const words = Array.from({ length: wordsPerText }, drawFiller);
    const labels: string[] = [];
    options.behaviours.forEach((b, i) => {
      if (random() >= b.rate) return;
      labels.push(b.code);
      const marks = markers[i]!;
      for (let m = 0; m < markersPerText; m++) words[Math.floor(random() * words.length)] = marks[Math.floor(random() * marks.length)]!;
    });
    if (options.noise && random() < options.noise && options.behaviours.length > 0) {
      const b = options.behaviours[Math.floor(random() * options.behaviours.length)]!.code;
      const at = labels.indexOf(b);
      if (at >= 0) labels.splice(at, 1);
      else labels.push(b);
    }
    // Sentences of 8 to 15 words, so texts look like prose to the tokeniser.
    let text = '';
    let sentence = 0;
    for (const w of words) {
      text += sentence === 0 ? w[0]!.toUpperCase() + w.slice(1) : ` ${w}`;
      sentence++;
      if (sentence >= 8 && random() < 0.2) {
        text += '. ';
        sentence = 0;
      }
    }
    examples.push({ text: `${text.trimEnd()}.`, labels: labels.sort() });
  }
  return examples;
}

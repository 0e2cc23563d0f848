import { seededRandom } from '../classify/offline/folds.ts';

/**
 * A generated corpus with known topics, for the tests and the benchmark: each planted topic has its own
 * vocabulary, mixed into text drawn from a shared background vocabulary; "noise" texts use the background only.
 * Deterministic for a given seed.
 */

export const PLANTED_TOPICS = [
  { name: 'pirate speech', words: 'pirate arrr matey treasure ship parrot plank captain ahoy buccaneer doubloons galleon' },
  { name: 'recipes', words: 'recipe oven flour butter bake whisk sugar dough simmer garlic onion skillet' },
  { name: 'repetition', words: 'loop repetition repeating endless cycle echo stuck duplicate verbatim recurring refrain reiterate' },
  { name: 'legal advice', words: 'lawyer court contract liability statute plaintiff attorney clause jurisdiction lawsuit tort verdict' },
  { name: 'astronomy', words: 'telescope galaxy nebula orbit planet comet asteroid stellar supernova eclipse cosmic quasar' },
  { name: 'poetry', words: 'rhyme verse stanza sonnet poem couplet meter lyric haiku ballad iambic limerick' },
].map((t) => ({ name: t.name, words: t.words.split(' ') }));

const BACKGROUND = `model answer question user response time information example think help data result system task
request explain detail reason point case part number way people work information thing place problem fact idea
level order form line change kind side end group word study area story issue history power program process
report role rate field source term test value view voice approach basis choice claim concept context course effort
element event feature focus goal impact input issue method nature option output pattern period position quality
range record region resource rule scale sense series service signal stage standard step structure style subject
support surface target theme theory topic total trend type unit version volume weight write table chart list note
draft image sample summary title section chapter paragraph sentence letter message email phone screen window
button menu file folder browser server network account password setting profile status update version release
`.split(/\s+/).filter(Boolean);

export interface PlantedText {
  title: string;
  surprise: string;
  assistant: string;
  /** Index into PLANTED_TOPICS, or -1 for a noise text. */
  topic: number;
}

export interface PlantedCorpusOptions {
  topics?: number;
  perTopic?: number;
  noise?: number;
  seed?: number;
  /** Words in each assistant text (default 60). */
  words?: number;
  /** Share of the assistant's words drawn from the topic's vocabulary (default 0.3). */
  topicShare?: number;
}

/** Topic texts first in topic order, then noise texts: callers shuffle if order matters to them. */
export function plantedCorpus(options: PlantedCorpusOptions = {}): PlantedText[] {
  const { topics = 4, perTopic = 20, noise = 10, seed = 7, words = 60, topicShare = 0.3 } = options;
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const sentence = (count: number, vocabulary: readonly string[] | null) =>
    Array.from({ length: count }, () => (vocabulary && random() < topicShare ? pick(vocabulary) : pick(BACKGROUND))).join(' ');
  const out: PlantedText[] = [];
  for (let t = 0; t < Math.min(topics, PLANTED_TOPICS.length); t++) {
    const vocabulary = PLANTED_TOPICS[t]!.words;
    for (let i = 0; i < perTopic; i++) {
      out.push({
        title: `The model went on about ${pick(vocabulary)} and ${pick(vocabulary)}`,
        surprise: `Unexpected ${sentence(8, vocabulary)}.`,
        assistant: `${sentence(words, vocabulary)}.`,
        topic: t,
      });
    }
  }
  for (let i = 0; i < noise; i++) {
    out.push({ title: `Odd ${pick(BACKGROUND)} ${pick(BACKGROUND)}`, surprise: `${sentence(8, null)}.`, assistant: `${sentence(words, null)}.`, topic: -1 });
  }
  return out;
}

/** The text the clustering reads for a planted text, as for an observation: title, surprise, assistant turns. */
export const plantedText = (t: PlantedText) => `${t.title}\n${t.surprise}\n${t.assistant}`;

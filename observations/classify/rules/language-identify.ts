import { words } from './text-units.ts';

/**
 * A small language identifier for the language-switch rule, with no downloaded data: Unicode script counts for
 * languages with their own script, and stopword lists for seven Latin-script languages. It answers for one
 * window of text (a sentence, or a run of one script) and abstains when the evidence is thin.
 *
 * Latin script: each word found in a language's stopword list scores 1/k for that language, where k is the
 * number of lists holding it (so `de`, shared by French, Spanish, Portuguese and Dutch, counts a quarter each).
 * A window is identified when it has at least MIN_WORDS words, the best language scores at least MIN_SCORE, at
 * least 1.25 times the runner-up, and its stopwords make up at least 15% of the words (lists of names, code
 * identifiers and headings abstain).
 */

export const STOPWORDS: Record<LatinLanguage, readonly string[]> = {
  en: ['the', 'and', 'of', 'to', 'a', 'is', 'are', 'was', 'were', 'that', 'this', 'with', 'for', 'it', 'you', 'have', 'has', 'not', 'be', 'on', 'at', 'by', 'from', 'which', 'would', 'will', 'can', 'there', 'their', 'they', 'what', 'an', 'or', 'but', 'if', 'we', 'he', 'she', 'my', 'your', 'been', 'do', 'does', 'than', 'then', 'these', 'those', 'about', 'into', 'because', 'should', 'could', 'how', 'when', 'where', 'who', 'also', 'very', 'in', 'its', "it's", "don't", 'i', 'so', 'some', 'any', 'all', 'more', 'just', 'here', 'me', 'our', 'us', 'them', 'his', 'her', 'him', 'had', 'no', 'yes', 'only', 'now', 'please', 'thanks'],
  fr: ['le', 'la', 'les', 'des', 'du', 'de', 'un', 'une', 'et', 'est', 'sont', 'dans', 'pour', 'pas', 'que', 'qui', 'sur', 'avec', 'ce', 'cette', 'ces', 'il', 'elle', 'nous', 'vous', 'ils', 'au', 'aux', 'mais', 'ou', 'où', 'par', 'plus', 'se', 'sa', 'son', 'ses', 'leur', 'être', 'avoir', 'été', 'fait', 'comme', 'tout', 'très', 'aussi', 'je', 'ne', 'en', 'y', 'c', 'd', 'l', 'j', 'n', 'qu', 'était', 'peut', 'voici', 'cela', 'ça', 'tous', 'toutes', 'toute', 'ont', 'mes', 'mon', 'ma', 'ton', 'merci', 'bonjour', 'donc', 'alors', 'encore'],
  de: ['der', 'die', 'das', 'und', 'ist', 'nicht', 'ein', 'eine', 'einen', 'dem', 'den', 'des', 'mit', 'für', 'auf', 'sich', 'auch', 'es', 'ich', 'sie', 'wir', 'ihr', 'zu', 'im', 'von', 'wird', 'werden', 'sind', 'war', 'hat', 'haben', 'dass', 'aber', 'oder', 'wenn', 'noch', 'nur', 'kann', 'wie', 'bei', 'aus', 'nach', 'über', 'um', 'sehr', 'diese', 'dieser', 'einer', 'eines', 'durch', 'zum', 'zur', 'man', 'hier', 'so', 'in', 'mein', 'meine', 'dein', 'alle', 'alles', 'danke', 'bitte', 'schon', 'immer', 'jetzt', 'dann', 'doch'],
  es: ['el', 'la', 'los', 'las', 'de', 'del', 'y', 'que', 'en', 'un', 'una', 'es', 'son', 'por', 'para', 'con', 'no', 'se', 'su', 'sus', 'al', 'lo', 'como', 'más', 'pero', 'este', 'esta', 'estos', 'esto', 'muy', 'también', 'hay', 'ser', 'está', 'están', 'fue', 'porque', 'cuando', 'donde', 'sobre', 'entre', 'sin', 'ya', 'le', 'les', 'nos', 'yo', 'a', 'puede', 'tiene', 'me', 'mi', 'tu', 'te', 'eso', 'esa', 'ese', 'todo', 'todos', 'otro', 'otra', 'así', 'aquí', 'hola', 'gracias', 'favor'],
  it: ['il', 'lo', 'la', 'gli', 'le', 'di', 'del', 'della', 'dei', 'delle', 'che', 'e', 'è', 'un', 'una', 'per', 'con', 'non', 'sono', 'si', 'da', 'dal', 'nel', 'nella', 'al', 'alla', 'come', 'più', 'ma', 'anche', 'questo', 'questa', 'molto', 'essere', 'ha', 'hanno', 'perché', 'quando', 'dove', 'se', 'ci', 'mi', 'ti', 'sul', 'sulla', 'a', 'in', 'l', 'dell', 'all', 'nell', 'un', 'può', 'sia', 'mio', 'mia', 'tutto', 'tutti', 'grazie', 'ciao', 'così', 'qui', 'allora', 'ancora', 'sempre'],
  pt: ['o', 'a', 'os', 'as', 'de', 'do', 'da', 'dos', 'das', 'e', 'que', 'em', 'no', 'na', 'nos', 'nas', 'um', 'uma', 'é', 'são', 'para', 'com', 'não', 'por', 'se', 'mais', 'mas', 'como', 'seu', 'sua', 'muito', 'também', 'isso', 'este', 'esta', 'ao', 'pelo', 'pela', 'foi', 'ser', 'está', 'quando', 'onde', 'você', 'eu', 'ele', 'ela', 'pode', 'tem', 'meu', 'minha', 'aqui', 'obrigado', 'obrigada', 'então', 'todos', 'tudo', 'outro', 'nós'],
  nl: ['de', 'het', 'een', 'en', 'van', 'is', 'dat', 'die', 'in', 'op', 'te', 'met', 'voor', 'niet', 'zijn', 'er', 'ook', 'aan', 'maar', 'om', 'als', 'bij', 'naar', 'dan', 'nog', 'wel', 'kan', 'worden', 'wordt', 'deze', 'dit', 'ze', 'je', 'ik', 'we', 'hij', 'zij', 'heeft', 'hebben', 'was', 'uit', 'over', 'of', 'door', 'geen', 'meer', 'hoe', 'wat', 'mijn', 'jouw', 'alle', 'alles', 'bedankt', 'dank', 'altijd', 'nu', 'toch', 'al', 'zo'],
};

export const latinLanguages = ['en', 'fr', 'de', 'es', 'it', 'pt', 'nl'] as const;
export type LatinLanguage = (typeof latinLanguages)[number];

/** Languages (or, where one script serves many languages, scripts) the identifier can name. */
export const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  fr: 'French',
  de: 'German',
  es: 'Spanish',
  it: 'Italian',
  pt: 'Portuguese',
  nl: 'Dutch',
  zh: 'Chinese',
  ja: 'Japanese',
  ko: 'Korean',
  el: 'Greek',
  he: 'Hebrew',
  th: 'Thai',
  Cyrl: 'a Cyrillic-script language',
  Arab: 'an Arabic-script language',
  Deva: 'a Devanagari-script language',
};

/** Names and adjectives by which a prompt or a reply announces a language (lower-case, several languages). */
export const LANGUAGE_MENTIONS: Record<string, readonly string[]> = {
  en: ['english', 'anglais', 'englisch', 'inglés', 'ingles', 'inglese', 'inglês', 'engels'],
  fr: ['french', 'français', 'francais', 'französisch', 'francés', 'frances', 'francese', 'francês', 'frans'],
  de: ['german', 'allemand', 'deutsch', 'alemán', 'aleman', 'tedesco', 'alemão', 'duits'],
  es: ['spanish', 'espagnol', 'spanisch', 'español', 'espanol', 'spagnolo', 'espanhol', 'spaans', 'castellano'],
  it: ['italian', 'italien', 'italienisch', 'italiano', 'italiaans'],
  pt: ['portuguese', 'portugais', 'portugiesisch', 'portugués', 'portoghese', 'português', 'portugees'],
  nl: ['dutch', 'néerlandais', 'niederländisch', 'holländisch', 'neerlandés', 'olandese', 'holandês', 'nederlands', 'flemish'],
  zh: ['chinese', 'mandarin', 'cantonese', 'chinois', 'chinesisch', 'chino', 'cinese', 'chinês', '中文', '汉语', '漢語'],
  ja: ['japanese', 'japonais', 'japanisch', 'japonés', 'giapponese', 'japonês', '日本語'],
  ko: ['korean', 'coréen', 'koreanisch', 'coreano', '한국어'],
  el: ['greek', 'grec', 'griechisch', 'griego', 'greco', 'grego'],
  he: ['hebrew', 'hébreu', 'hebräisch', 'hebreo', 'ebraico', 'hebraico'],
  th: ['thai', 'thaï', 'thailändisch', 'tailandés', 'tailandese', 'tailandês'],
  Cyrl: ['russian', 'ukrainian', 'bulgarian', 'serbian', 'russe', 'russisch', 'ruso', 'russo', 'русский', 'українська'],
  Arab: ['arabic', 'persian', 'farsi', 'urdu', 'arabe', 'arabisch', 'árabe', 'arabo', 'العربية'],
  Deva: ['hindi', 'marathi', 'nepali', 'sanskrit', 'हिन्दी', 'हिंदी'],
};

export type ScriptGroup = 'latin' | 'cjk' | 'hangul' | 'cyrillic' | 'greek' | 'arabic' | 'hebrew' | 'devanagari' | 'thai' | 'other';

const SCRIPT_TESTS: Array<[ScriptGroup, RegExp]> = [
  ['latin', /\p{Script=Latin}/u],
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['greek', /\p{Script=Greek}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
  ['thai', /\p{Script=Thai}/u],
];
const LETTER = /\p{L}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** The script group of one character, or null when it is not a letter. */
export function scriptOf(ch: string): ScriptGroup | null {
  if (!LETTER.test(ch)) return null;
  for (const [group, re] of SCRIPT_TESTS) if (re.test(ch)) return group;
  return 'other';
}

export interface LanguageGuess {
  /** A language code (en, fr, zh...) or a script code where one script serves many languages (Cyrl, Arab, Deva). */
  language: string;
  /** In (0, 1]: how clearly the window points to this language. */
  strength: number;
  /** Words in the window (a CJK character counts 1/1.5 of a word, roughly its share of a word). */
  words: number;
}

const MIN_WORDS = 4;
const MIN_SCORE = 2;
const MIN_DENSITY = 0.15;
const MIN_CJK_CHARACTERS = 4;
const MIN_SCRIPT_LETTERS = 8;

const stopwordLanguages = (() => {
  const byWord = new Map<string, LatinLanguage[]>();
  for (const lang of latinLanguages) for (const w of new Set(STOPWORDS[lang])) byWord.set(w, [...(byWord.get(w) ?? []), lang]);
  return byWord;
})();

/** Identifies the language of one window of text, or returns null when the evidence is too thin to say. */
export function identifyLanguage(text: string): LanguageGuess | null {
  const counts = new Map<ScriptGroup, number>();
  let letters = 0;
  let kana = 0;
  for (const ch of text) {
    const group = scriptOf(ch);
    if (!group) continue;
    letters++;
    counts.set(group, (counts.get(group) ?? 0) + 1);
    if (group === 'cjk' && KANA.test(ch)) kana++;
  }
  if (letters === 0) return null;
  let dominant: ScriptGroup = 'latin';
  let most = 0;
  for (const [group, n] of counts) if (n > most) [dominant, most] = [group, n];
  const share = most / letters;
  if (dominant === 'latin') return identifyLatin(text, share);
  if (share < 0.6 || dominant === 'other') return null;
  if (dominant === 'cjk') {
    if (most < MIN_CJK_CHARACTERS) return null;
    return { language: kana > 0 ? 'ja' : 'zh', strength: share, words: most / 1.5 };
  }
  if (most < MIN_SCRIPT_LETTERS) return null;
  const language = { hangul: 'ko', cyrillic: 'Cyrl', greek: 'el', arabic: 'Arab', hebrew: 'he', devanagari: 'Deva', thai: 'th' }[dominant];
  return { language, strength: share, words: dominant === 'thai' ? most / 4 : words(text).length };
}

function identifyLatin(text: string, share: number): LanguageGuess | null {
  // Elisions (l'homme, dell'arte, c'est) score their article: split words at apostrophes.
  const written = words(text);
  if (written.length < MIN_WORDS) return null;
  const tokens = written.flatMap((w) => w.text.toLowerCase().split(/['’]/).filter(Boolean));
  const scores = new Map<LatinLanguage, number>();
  for (const w of tokens) {
    const langs = stopwordLanguages.get(w);
    if (!langs) continue;
    for (const lang of langs) scores.set(lang, (scores.get(lang) ?? 0) + 1 / langs.length);
  }
  const ranked = [...scores].sort((a, b) => b[1] - a[1]);
  const [best, second] = [ranked[0], ranked[1]];
  if (!best || best[1] < MIN_SCORE) return null;
  const runnerUp = second?.[1] ?? 0;
  if (best[1] < 1.25 * runnerUp) return null;
  const density = best[1] / tokens.length;
  if (density < MIN_DENSITY) return null;
  // Margin over the runner-up and stopword density, each saturating, scaled by how Latin the window is.
  const margin = Math.min(1, (best[1] - runnerUp) / 3);
  const strength = share * (0.5 + 0.25 * margin + 0.25 * Math.min(1, density / 0.35));
  return { language: best[0], strength, words: written.length };
}

/**
 * What the "Turn into a draft behaviour" form starts from, derived from a cluster: a code built from its top
 * terms (unique among the codes already taken), a name, a definition the researcher must rewrite, an inclusion
 * criterion naming the terms, and the representative excerpt as a positive example.
 */

/** Marks the suggested definition: a definition still containing it is refused, so nobody publishes a guess. */
export const DEFINITION_PLACEHOLDER = '[Rewrite this definition]';

const CODE_PART_LENGTH = 8;
const CODE_MAX = 32;

/** Upper-case ASCII letters and digits of a word (accents folded away), or '' when none are left. */
function codePart(word: string): string {
  return word
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .slice(0, CODE_PART_LENGTH);
}

/**
 * A behaviour code from the cluster's top terms: up to two distinct words, upper-case letters and digits,
 * joined by a dash ("PIRATE-ARRR"), starting with a letter as codes must; "NEW" when no term gives one. When the
 * code is taken (compared case-insensitively), "-2", "-3"... is appended until it is free.
 */
export function suggestCode(topTerms: readonly string[], taken: Iterable<string>): string {
  const used = new Set([...taken].map((c) => c.toUpperCase()));
  const parts: string[] = [];
  for (const word of topTerms.flatMap((t) => t.split(' '))) {
    const part = codePart(word);
    if (!part || parts.includes(part)) continue;
    if (parts.length === 0 && !/^[A-Z]/.test(part)) continue;
    parts.push(part);
    if (parts.length === 2) break;
  }
  const base = (parts.length > 0 ? parts.join('-') : 'NEW').slice(0, CODE_MAX - 4);
  const code = base.length >= 2 ? base : `${base}X`;
  if (!used.has(code)) return code;
  for (let n = 2; ; n++) {
    const candidate = `${code}-${n}`;
    if (!used.has(candidate)) return candidate;
  }
}

export interface SuggestedBehaviour {
  code: string;
  name: string;
  definition: string;
  inclusion: string;
  positiveExample: string;
}

const quoted = (terms: readonly string[]) => terms.map((t) => `"${t}"`).join(', ');

/** The form's starting values for a cluster (its top terms and representative excerpt), given the codes taken. */
export function suggestBehaviour(cluster: { topTerms: readonly string[]; excerpt: string }, taken: Iterable<string>): SuggestedBehaviour {
  const terms = cluster.topTerms;
  const head = terms.slice(0, 2).join(' / ') || 'Unnamed pattern';
  return {
    code: suggestCode(terms, taken),
    name: (head.charAt(0).toUpperCase() + head.slice(1)).slice(0, 200),
    definition:
      `${DEFINITION_PLACEHOLDER} The assistant ... (say what a coder can observe in the transcript, and where to code it).` +
      (terms.length ? ` The observations grouped here share the terms ${quoted(terms.slice(0, 5))}.` : ''),
    inclusion: terms.length ? `The assistant's output shows ${quoted(terms.slice(0, 3))} (edit: say what must be observable).` : '',
    positiveExample: cluster.excerpt.slice(0, 2000),
  };
}

import type { Migration } from '../ethogram-document.schema.ts';

/** The fields of a behaviour a diff compares: its identity (`key`), what coders see, where it sits, what it means. */
export interface DiffBehaviour {
  key: string;
  code: string;
  name: string;
  category: string;
  parent: string | null;
  kind: string;
  level: string;
  definition: string;
  inclusion: string[];
  exclusion: string[];
}

/** Fields whose change alters what a code means, so codings made under the old wording may no longer fit. */
const MEANING_FIELDS = ['definition', 'inclusion', 'exclusion', 'kind', 'level'] as const;
export type MeaningField = (typeof MEANING_FIELDS)[number];

export type Change =
  | { kind: 'added'; code: string; name: string }
  | { kind: 'removed'; code: string; name: string; key: string }
  | { kind: 'renamed'; key: string; fromCode: string; toCode: string; fromName: string; toName: string }
  | { kind: 'moved'; key: string; code: string; fromCategory: string; toCategory: string; fromParent: string | null; toParent: string | null }
  | { kind: 'redefined'; key: string; code: string; fromCode: string; fields: MeaningField[] }
  | { kind: 'merged'; from: string[]; into: string }
  | { kind: 'split'; from: string; into: string[] };

/**
 * What the next version does with the codings of one base behaviour (by key):
 * - `carry`: they keep their meaning under `toKey` (rename, move, merge, reworded definition);
 * - `recode`: a person must choose among `candidates` (draft codes) — a split or a redefinition;
 * - `retired`: the behaviour is gone and its codings have no equivalent, as the researcher declared;
 * - `unmapped`: the behaviour is gone and nothing was declared (allowed only while nobody coded it).
 */
export type KeyFate =
  | { fate: 'carry'; toKey: string }
  | { fate: 'recode'; reason: 'split' | 'redefine'; candidates: string[] }
  | { fate: 'retired' }
  | { fate: 'unmapped' };

export interface MigrationProblem { path: string; message: string }

export interface VersionDiff {
  changes: Change[];
  /** Base key → what becomes of its codings in the new version. */
  fates: Map<string, KeyFate>;
  /** Declared migrations that do not fit the two versions (unknown codes, overlaps), at `migrations.N...`. */
  problems: MigrationProblem[];
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Compares a version with the one it was opened from, by behaviour key (the identity that survives renames),
 * and folds in the migrations the new version declares. Pure: pages, the API and publishing share it.
 */
export function diffVersions(base: readonly DiffBehaviour[], next: readonly DiffBehaviour[], migrations: readonly Migration[]): VersionDiff {
  const baseByKey = new Map(base.map((b) => [b.key, b]));
  const baseByCode = new Map(base.map((b) => [b.code, b]));
  const nextByKey = new Map(next.map((b) => [b.key, b]));
  const nextByCode = new Map(next.map((b) => [b.code, b]));
  const problems: MigrationProblem[] = [];
  const changes: Change[] = [];
  const fates = new Map<string, KeyFate>();
  /** Base codes some migration already speaks for, so that a second one is reported instead of silently winning. */
  const claimed = new Map<string, number>();
  const claim = (code: string, index: number, path: string) => {
    const earlier = claimed.get(code);
    if (earlier !== undefined) problems.push({ path, message: `${code} is already handled by migration ${earlier + 1}; one migration per behaviour` });
    else claimed.set(code, index);
  };
  const targetsOfMigrations = new Set<string>();

  migrations.forEach((m, i) => {
    const at = (rest: string) => `migrations.${i}.${rest}`;
    if (m.type === 'merge') {
      const into = nextByCode.get(m.into);
      if (!into) problems.push({ path: at('into'), message: `${m.into} is not a behaviour of this version; merge into one that exists here` });
      m.from.forEach((code, j) => {
        const from = baseByCode.get(code);
        if (!from) return problems.push({ path: at(`from.${j}`), message: `${code} is not a behaviour of the version this one was opened from` });
        if (into && nextByKey.has(from.key) && from.key !== into.key) {
          return problems.push({ path: at(`from.${j}`), message: `${code} is still in this version; only behaviours removed here can be merged into another` });
        }
        claim(code, i, at(`from.${j}`));
        if (into) fates.set(from.key, { fate: 'carry', toKey: into.key });
      });
      if (into) {
        targetsOfMigrations.add(into.key);
        changes.push({ kind: 'merged', from: m.from, into: m.into });
      }
    } else if (m.type === 'split') {
      const from = baseByCode.get(m.from);
      if (!from) problems.push({ path: at('from'), message: `${m.from} is not a behaviour of the version this one was opened from` });
      const missing = m.into.filter((code) => !nextByCode.has(code));
      missing.forEach((code) => problems.push({ path: at(`into.${m.into.indexOf(code)}`), message: `${code} is not a behaviour of this version; add it before splitting into it` }));
      if (new Set(m.into).size !== m.into.length) problems.push({ path: at('into'), message: 'a split lists each new behaviour once' });
      if (from) {
        claim(m.from, i, at('from'));
        if (missing.length === 0) fates.set(from.key, { fate: 'recode', reason: 'split', candidates: [...m.into] });
        m.into.forEach((code) => {
          const target = nextByCode.get(code);
          if (target) targetsOfMigrations.add(target.key);
        });
        changes.push({ kind: 'split', from: m.from, into: m.into });
      }
    } else if (m.type === 'redefine') {
      const now = nextByCode.get(m.code);
      const before = now ? baseByKey.get(now.key) : undefined;
      if (!now || !before) {
        problems.push({ path: at('code'), message: `${m.code} is not a behaviour of both versions; a redefinition is declared on a behaviour that stays` });
        return;
      }
      claim(before.code, i, at('code'));
      fates.set(before.key, m.decision === 'recode' ? { fate: 'recode', reason: 'redefine', candidates: [now.code] } : { fate: 'carry', toKey: now.key });
    } else {
      const before = baseByCode.get(m.code);
      if (!before) return problems.push({ path: at('code'), message: `${m.code} is not a behaviour of the version this one was opened from` });
      if (nextByKey.has(before.key)) return problems.push({ path: at('code'), message: `${m.code} is still in this version; only a removed behaviour can be retired` });
      claim(m.code, i, at('code'));
      fates.set(before.key, { fate: 'retired' });
    }
  });

  for (const b of base) {
    const now = nextByKey.get(b.key);
    if (!now) {
      const covered = fates.get(b.key);
      // A behaviour merged or split away is described by that change; one retired or forgotten is a removal.
      if (!covered || covered.fate === 'retired') changes.push({ kind: 'removed', code: b.code, name: b.name, key: b.key });
      if (!covered) fates.set(b.key, { fate: 'unmapped' });
      continue;
    }
    if (b.code !== now.code || b.name !== now.name) {
      changes.push({ kind: 'renamed', key: b.key, fromCode: b.code, toCode: now.code, fromName: b.name, toName: now.name });
    }
    if (b.category !== now.category || b.parent !== now.parent) {
      changes.push({ kind: 'moved', key: b.key, code: now.code, fromCategory: b.category, toCategory: now.category, fromParent: b.parent, toParent: now.parent });
    }
    const fields = MEANING_FIELDS.filter((f) => {
      const before = b[f];
      const after = now[f];
      return Array.isArray(before) ? !sameList(before, after as string[]) : before !== after;
    });
    if (fields.length > 0) changes.push({ kind: 'redefined', key: b.key, code: now.code, fromCode: b.code, fields });
    if (!fates.has(b.key)) {
      // Redefined without a declaration: carried for now, and reported as needing a decision if coded (see breakingChanges).
      fates.set(b.key, { fate: 'carry', toKey: now.key });
    }
  }
  for (const n of next) {
    if (!baseByKey.has(n.key) && !targetsOfMigrations.has(n.key)) changes.push({ kind: 'added', code: n.code, name: n.name });
  }
  return { changes, fates, problems };
}

/** A change that would reinterpret existing codings if published as it stands, with what to do about it. */
export interface BreakingChange { code: string; codings: number; change: 'removed' | 'redefined'; message: string }

/**
 * The changes that affect existing codings and have no migration: a removed behaviour that was coded, and a
 * coded behaviour whose meaning changed without a `redefine` decision. `codedByBaseKey` counts the live codings
 * that resolve to each base key. Renames and moves carry codings over by themselves, so they never block.
 */
export function breakingChanges(diff: VersionDiff, migrations: readonly Migration[], codedByBaseKey: ReadonlyMap<string, number>): BreakingChange[] {
  const declaredRedefinitions = new Set(migrations.flatMap((m) => (m.type === 'redefine' ? [m.code] : [])));
  const splitSources = new Set(migrations.flatMap((m) => (m.type === 'split' ? [m.from] : [])));
  const out: BreakingChange[] = [];
  for (const change of diff.changes) {
    if (change.kind === 'removed') {
      const n = codedByBaseKey.get(change.key) ?? 0;
      if (n > 0 && diff.fates.get(change.key)?.fate === 'unmapped') {
        out.push({
          code: change.code,
          codings: n,
          change: 'removed',
          message: `${change.code} was removed and ${n} coding${n === 1 ? ' uses' : 's use'} it: merge it into another behaviour, split it, or retire it`,
        });
      }
    } else if (change.kind === 'redefined') {
      const n = codedByBaseKey.get(change.key) ?? 0;
      if (n > 0 && !declaredRedefinitions.has(change.code) && !splitSources.has(change.fromCode)) {
        out.push({
          code: change.code,
          codings: n,
          change: 'redefined',
          message: `${change.code} changed its ${change.fields.join(', ')} and ${n} coding${n === 1 ? ' uses' : 's use'} it: send them to the recode queue, or declare the change a rewording that keeps their meaning`,
        });
      }
    }
  }
  return out;
}

/** A change in words, for pages and event payloads. */
export function describeChange(change: Change): string {
  switch (change.kind) {
    case 'added':
      return `${change.code} (${change.name}) was added.`;
    case 'removed':
      return `${change.code} (${change.name}) was removed.`;
    case 'renamed':
      return change.fromCode !== change.toCode
        ? `${change.fromCode} was renamed to ${change.toCode}${change.fromName !== change.toName ? ` ("${change.fromName}" → "${change.toName}")` : ''}; its codings carry over.`
        : `${change.toCode} was renamed from "${change.fromName}" to "${change.toName}"; its codings carry over.`;
    case 'moved': {
      const parts: string[] = [];
      if (change.fromCategory !== change.toCategory) parts.push(`from category ${change.fromCategory} to ${change.toCategory}`);
      if (change.fromParent !== change.toParent) parts.push(`from under ${change.fromParent ?? '(top level)'} to under ${change.toParent ?? '(top level)'}`);
      return `${change.code} was moved ${parts.join(' and ')}; its codings carry over.`;
    }
    case 'redefined':
      return `${change.code} was redefined (${change.fields.join(', ')} changed).`;
    case 'merged':
      return `${change.from.join(', ')} ${change.from.length === 1 ? 'was' : 'were'} merged into ${change.into}; their codings map to ${change.into}.`;
    case 'split':
      return `${change.from} was split into ${change.into.join(', ')}; its codings go to the recode queue.`;
  }
}

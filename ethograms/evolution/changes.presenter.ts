import type { Migration } from '../ethogram-document.schema.ts';
import type { BehaviourRow, VersionRow } from '../version-document.ts';
import { describeChange } from './diff.ts';
import { diffBehaviour } from './lineage.ts';
import type { VersionChanges } from './version-changes.ts';

/** The comparable fields of one behaviour (those the diff compares), for the side-by-side view. */
const sideOf = (b: BehaviourRow | undefined) => (b ? diffBehaviour(b) : null);

/**
 * A version's changes against the version it was opened from: each change in words, with the behaviour before
 * and after (side by side), the codings it touches, the declared migrations, and what still blocks publishing.
 */
export function presentChanges(version: VersionRow, rows: readonly BehaviourRow[], changes: VersionChanges) {
  const baseRows = changes.base?.rows ?? [];
  const before = (code: string) => baseRows.find((b) => b.code === code);
  const beforeByKey = (key: string) => baseRows.find((b) => b.key === key);
  const after = (code: string) => rows.find((b) => b.code === code);
  const afterByKey = (key: string) => rows.find((b) => b.key === key);
  const coded = (b: BehaviourRow | undefined) => (b ? (changes.codedByBaseKey.get(b.key) ?? 0) : 0);
  return {
    version: version.number,
    status: version.status,
    base: changes.base ? { number: changes.base.number } : null,
    changes: changes.diff.changes.map((change) => {
      let pairs: { before: ReturnType<typeof sideOf>; after: ReturnType<typeof sideOf> }[] = [];
      let codings = 0;
      switch (change.kind) {
        case 'added':
          pairs = [{ before: null, after: sideOf(after(change.code)) }];
          break;
        case 'removed':
          pairs = [{ before: sideOf(before(change.code)), after: null }];
          codings = coded(before(change.code));
          break;
        case 'renamed':
        case 'moved':
        case 'redefined':
          pairs = [{ before: sideOf(beforeByKey(change.key)), after: sideOf(afterByKey(change.key)) }];
          codings = coded(beforeByKey(change.key));
          break;
        case 'merged':
          pairs = change.from.map((code) => ({ before: sideOf(before(code)), after: sideOf(after(change.into)) }));
          codings = change.from.reduce((n, code) => n + coded(before(code)), 0);
          break;
        case 'split':
          pairs = change.into.map((code) => ({ before: sideOf(before(change.from)), after: sideOf(after(code)) }));
          codings = coded(before(change.from));
          break;
      }
      return { ...change, words: describeChange(change), codings, pairs };
    }),
    migrations: version.migrations as Migration[],
    migrationProblems: changes.diff.problems,
    blocking: changes.breaking,
  };
}
export type PresentedChanges = ReturnType<typeof presentChanges>;

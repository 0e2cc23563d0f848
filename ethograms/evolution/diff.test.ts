// @database-free: pure comparison of crafted versions; never opens the test database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { breakingChanges, describeChange, diffVersions, type DiffBehaviour } from './diff.ts';
import { countByTargetKey, followKey, keysReaching, type Lineage } from './lineage.ts';

const b = (code: string, overrides: Partial<DiffBehaviour> = {}): DiffBehaviour => ({
  key: `k.${code.toLowerCase()}`,
  code,
  name: `Name ${code}`,
  category: 'cat',
  parent: null,
  kind: 'event',
  level: 'act',
  definition: `Definition of ${code}.`,
  inclusion: ['in'],
  exclusion: [],
  ...overrides,
});

const base = [b('KEEP'), b('OLD-NAME'), b('MOVER'), b('REDEF'), b('MA'), b('MB'), b('SPLIT'), b('GONE'), b('UNCODED')];
const next = [
  b('KEEP'),
  b('NEW-NAME', { key: 'k.old-name', name: 'Better name', definition: 'Definition of OLD-NAME.' }),
  b('MOVER', { category: 'other', parent: 'KEEP' }),
  b('REDEF', { definition: 'A different meaning.' }),
  b('MERGED'),
  b('SPLIT-A'),
  b('SPLIT-B'),
  b('FRESH'),
];
const coded = new Map([
  ['k.keep', 3],
  ['k.old-name', 2],
  ['k.mover', 1],
  ['k.redef', 4],
  ['k.ma', 5],
  ['k.mb', 6],
  ['k.split', 7],
  ['k.gone', 8],
]);

test('every kind of change is found by key, with merges and splits from the declared migrations', () => {
  const diff = diffVersions(base, next, [
    { type: 'merge', from: ['MA', 'MB'], into: 'MERGED' },
    { type: 'split', from: 'SPLIT', into: ['SPLIT-A', 'SPLIT-B'] },
  ]);
  const kinds = diff.changes.map((c) => c.kind).sort();
  assert.deepEqual(kinds, ['added', 'merged', 'moved', 'redefined', 'removed', 'removed', 'renamed', 'split']);
  assert.deepEqual(diff.problems, []);
  const renamed = diff.changes.find((c) => c.kind === 'renamed');
  assert.deepEqual(renamed, { kind: 'renamed', key: 'k.old-name', fromCode: 'OLD-NAME', toCode: 'NEW-NAME', fromName: 'Name OLD-NAME', toName: 'Better name' });
  assert.match(describeChange(renamed!), /OLD-NAME was renamed to NEW-NAME .*carry over/);
  assert.deepEqual(diff.changes.find((c) => c.kind === 'added'), { kind: 'added', code: 'FRESH', name: 'Name FRESH' });
  // Rename, move and merge carry; split recodes; a forgotten removal is unmapped.
  assert.deepEqual(diff.fates.get('k.old-name'), { fate: 'carry', toKey: 'k.old-name' });
  assert.deepEqual(diff.fates.get('k.mover'), { fate: 'carry', toKey: 'k.mover' });
  assert.deepEqual(diff.fates.get('k.ma'), { fate: 'carry', toKey: 'k.merged' });
  assert.deepEqual(diff.fates.get('k.split'), { fate: 'recode', reason: 'split', candidates: ['SPLIT-A', 'SPLIT-B'] });
  assert.deepEqual(diff.fates.get('k.gone'), { fate: 'unmapped' });
});

test('publishing is blocked by each coded removal and redefinition without a migration, and only by those', () => {
  const migrations = [
    { type: 'merge' as const, from: ['MA', 'MB'], into: 'MERGED' },
    { type: 'split' as const, from: 'SPLIT', into: ['SPLIT-A', 'SPLIT-B'] },
  ];
  const blocking = breakingChanges(diffVersions(base, next, migrations), migrations, coded);
  assert.deepEqual(blocking.map((x) => [x.code, x.change, x.codings]).sort(), [
    ['GONE', 'removed', 8],
    ['REDEF', 'redefined', 4],
  ]);
  assert.match(blocking.find((x) => x.code === 'GONE')!.message, /8 codings use it: merge it .* split it, or retire it/);

  const resolved = [...migrations, { type: 'redefine' as const, code: 'REDEF', decision: 'recode' as const }, { type: 'retire' as const, code: 'GONE' }];
  const diff = diffVersions(base, next, resolved);
  assert.deepEqual(breakingChanges(diff, resolved, coded), []);
  assert.deepEqual(diff.fates.get('k.redef'), { fate: 'recode', reason: 'redefine', candidates: ['REDEF'] });
  assert.deepEqual(diff.fates.get('k.gone'), { fate: 'retired' });
  // A rewording keeps the codings' meaning: they carry.
  const reworded = diffVersions(base, next, [{ type: 'redefine', code: 'REDEF', decision: 'reword' }]);
  assert.deepEqual(reworded.fates.get('k.redef'), { fate: 'carry', toKey: 'k.redef' });
  // Nobody coded it: removing it needs no migration.
  const uncodedRemoval = breakingChanges(diffVersions([b('UNCODED')], [b('OTHER')], []), [], new Map());
  assert.deepEqual(uncodedRemoval, []);
});

test('migrations that do not fit are reported at their path', () => {
  const diff = diffVersions(base, next, [
    { type: 'merge', from: ['NOPE'], into: 'MERGED' },
    { type: 'merge', from: ['KEEP'], into: 'MERGED' },
    { type: 'split', from: 'SPLIT', into: ['SPLIT-A', 'MISSING'] },
    { type: 'retire', code: 'SPLIT' },
    { type: 'redefine', code: 'GONE', decision: 'recode' },
  ]);
  const paths = diff.problems.map((p) => p.path);
  assert.deepEqual(paths, ['migrations.0.from.0', 'migrations.1.from.0', 'migrations.2.into.1', 'migrations.3.code', 'migrations.4.code']);
  assert.match(diff.problems[1]!.message, /KEEP is still in this version/);
  assert.match(diff.problems[3]!.message, /SPLIT is still in this version|already handled/);
});

test('a lineage follows codings across versions: carried through renames and merges, stopped by splits', () => {
  const step = (versionId: string, number: number, codes: [string, string][], fates: [string, ReturnType<typeof diffVersions>['fates'] extends Map<string, infer F> ? F : never][]) => ({
    versionId,
    number,
    status: 'published',
    codeOfKey: new Map(codes),
    keyOfCode: new Map(codes.map(([k, c]) => [c, k] as [string, string])),
    fates: new Map(fates),
  });
  const lineage: Lineage = [
    step('v1', 1, [['k.a', 'A'], ['k.b', 'B'], ['k.s', 'S']], []),
    step('v2', 2, [['k.a', 'A2'], ['k.s', 'S']], [['k.a', { fate: 'carry', toKey: 'k.a' }], ['k.b', { fate: 'carry', toKey: 'k.a' }], ['k.s', { fate: 'carry', toKey: 'k.s' }]]),
    step('v3', 3, [['k.a', 'A2'], ['k.s1', 'S1'], ['k.s2', 'S2']], [['k.a', { fate: 'carry', toKey: 'k.a' }], ['k.s', { fate: 'recode', reason: 'split', candidates: ['S1', 'S2'] }]]),
  ];
  assert.deepEqual(followKey(lineage, 0, 2, 'k.b'), { key: 'k.a' });
  assert.deepEqual(followKey(lineage, 0, 2, 'k.s'), { stoppedAt: 2, fate: { fate: 'recode', reason: 'split', candidates: ['S1', 'S2'] } });
  assert.deepEqual(keysReaching(lineage, 1, 'k.a'), [{ versionId: 'v1', keys: ['k.a', 'k.b'] }, { versionId: 'v2', keys: ['k.a'] }]);
  const counts = countByTargetKey(lineage, 2, [
    { versionId: 'v1', key: 'k.a', n: 1 },
    { versionId: 'v1', key: 'k.b', n: 2 },
    { versionId: 'v1', key: 's', n: 9 },
    { versionId: 'v2', key: 'k.s', n: 4 },
    { versionId: 'v3', key: 'k.s1', n: 5 },
  ]);
  assert.deepEqual([...counts].sort(), [['k.a', 3], ['k.s1', 5]]);
});

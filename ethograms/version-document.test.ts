// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ethogramDocumentSchema } from './ethogram-document.schema.ts';
import { documentProblems, versionDocument, type BehaviourRow, type EthogramRow, type VersionRow } from './version-document.ts';

const at = new Date('2026-01-01T00:00:00Z');
const ethogram: EthogramRow = { id: 'e1', slug: 'unit', name: 'Unit', description: 'd', createdBy: null, createdAt: at, deletedAt: null };
const version = (overrides: Partial<VersionRow> = {}): VersionRow => ({
  id: 'v1',
  ethogramId: 'e1',
  number: 3,
  status: 'draft',
  notes: 'n',
  categories: [{ key: 'refusal', name: 'Refusal', parent: null }],
  modifierSets: [],
  exclusiveGroups: [],
  baseVersionId: null,
  migrations: [],
  revision: 1,
  createdBy: null,
  createdAt: at,
  publishedAt: null,
  ...overrides,
});
const row = (code: string, position: number, overrides: Partial<BehaviourRow> = {}): BehaviourRow => ({
  id: `b-${code}`,
  versionId: 'v1',
  key: `refusal.${code.toLowerCase()}`,
  code,
  name: code,
  category: 'refusal',
  parent: null,
  level: 'act',
  refersTo: [],
  kind: 'event',
  definition: 'A definition long enough to pass.',
  inclusion: ['yes'],
  exclusion: [],
  examples: { positive: ['e'], negative: [] },
  modifierSets: [],
  hotkey: null,
  colour: '#123456',
  mappings: [],
  status: 'active',
  replacedBy: null,
  position,
  ...overrides,
});

test('a version becomes a valid document, behaviours in catalogue order, categories with defaults filled', () => {
  const document = versionDocument(ethogram, version(), [row('B-TWO', 1), row('A-ONE', 0)]);
  assert.deepEqual(document.behaviours.map((b) => b.code), ['A-ONE', 'B-TWO']);
  assert.deepEqual(document.categories, [{ key: 'refusal', name: 'Refusal', description: '', parent: null }]);
  assert.deepEqual(document.version, { number: 3, notes: 'n' });
  assert.ok(ethogramDocumentSchema.safeParse(document).success);
  assert.deepEqual(documentProblems(document), []);
  assert.ok(!('id' in document.behaviours[0]!) && !('position' in document.behaviours[0]!), 'database fields stay out of the document');
});

test('an empty draft says what to add', () => {
  const problems = documentProblems(versionDocument(ethogram, version({ categories: [] }), []));
  assert.deepEqual(
    problems.map((p) => [p.path, p.message]),
    [
      ['categories', 'Add at least one category.'],
      ['behaviours', 'Add at least one behaviour.'],
    ],
  );
});

test('a problem inside a behaviour names its code', () => {
  const problems = documentProblems(versionDocument(ethogram, version(), [row('A-ONE', 0), row('B-TWO', 1, { category: 'gone' })]));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.path, 'behaviours.1.category');
  assert.equal(problems[0]?.code, 'B-TWO');
});

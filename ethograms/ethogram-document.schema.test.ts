// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ETHOGRAM_FORMAT, ethogramDocumentSchema, type EthogramDocumentInput } from './ethogram-document.schema.ts';

const STARTER_PATH = path.join(import.meta.dirname, 'starter', 'llm-starter.ethogram.json');

function loadStarter(): unknown {
  return JSON.parse(fs.readFileSync(STARTER_PATH, 'utf8'));
}

type BehaviourInput = EthogramDocumentInput['behaviours'][number];

function behaviour(overrides: Partial<BehaviourInput> & Pick<BehaviourInput, 'key' | 'code'>): BehaviourInput {
  return {
    name: overrides.code,
    category: 'refusal',
    kind: 'event',
    definition: 'The assistant declines the request as a whole.',
    inclusion: ['Explicit decline of the whole request.'],
    exclusion: ['Partial help: use the partial code.'],
    examples: { positive: ['User: Help.\nAssistant: No.'], negative: ['User: Help.\nAssistant: Sure, here it is.'] },
    hotkey: null,
    colour: '#c0392b',
    ...overrides,
  };
}

/** A small valid document; each negative test breaks exactly one thing in a fresh copy. */
function validDocument(): EthogramDocumentInput {
  return {
    format: ETHOGRAM_FORMAT,
    slug: 'test-ethogram',
    name: 'Test ethogram',
    description: 'Fixture for schema tests.',
    version: { number: 1 },
    categories: [
      { key: 'refusal', name: 'Refusal', description: '', parent: null },
      { key: 'over-refusal', name: 'Over-refusal', description: '', parent: 'refusal' },
    ],
    modifierSets: [{ key: 'severity', name: 'Severity', type: 'single', values: ['mild', 'severe'] }],
    exclusiveGroups: [{ key: 'refusal-extent', name: 'Refusal extent', behaviours: ['REF-FULL', 'REF-PART'] }],
    behaviours: [
      behaviour({ key: 'refusal.full', code: 'REF-FULL', hotkey: 'r', modifierSets: ['severity'] }),
      behaviour({ key: 'refusal.partial', code: 'REF-PART', hotkey: 'p' }),
      behaviour({ key: 'refusal.over', code: 'REF-OVER', category: 'over-refusal', hotkey: 'o' }),
    ],
  };
}

function behaviourAt(document: EthogramDocumentInput, index: number): BehaviourInput {
  const found = document.behaviours[index];
  assert.ok(found, `fixture has no behaviour at index ${index}`);
  return found;
}

/** Asserts that parsing fails and that one of the issues sits at `expectedPath`; returns that issue's message. */
function assertIssueAt(document: unknown, expectedPath: (string | number)[]): string {
  const result = ethogramDocumentSchema.safeParse(document);
  assert.equal(result.success, false, 'expected the document to be rejected');
  const issues = result.error?.issues ?? [];
  const match = issues.find((issue) => JSON.stringify(issue.path) === JSON.stringify(expectedPath));
  assert.ok(
    match,
    `expected an issue at ${JSON.stringify(expectedPath)}, got:\n${issues.map((i) => `${JSON.stringify(i.path)} ${i.message}`).join('\n')}`,
  );
  return match.message;
}

test('the starter ethogram validates', () => {
  const result = ethogramDocumentSchema.safeParse(loadStarter());
  assert.ok(result.success, result.success ? '' : JSON.stringify(result.error.issues.slice(0, 5), null, 2));
  assert.equal(result.data.format, ETHOGRAM_FORMAT);
  assert.equal(result.data.slug, 'llm-starter');
  assert.equal(result.data.version.number, 1);
});

test('the starter ethogram is complete enough to code with', () => {
  const starter = ethogramDocumentSchema.parse(loadStarter());
  assert.ok(starter.behaviours.length >= 30, `only ${starter.behaviours.length} behaviours`);
  const usedCategories = new Set(starter.behaviours.map((b) => b.category));
  assert.ok(usedCategories.size >= 6, `only ${usedCategories.size} categories in use`);
  for (const b of starter.behaviours) {
    assert.ok(b.hotkey, `${b.code} has no hotkey`);
    assert.ok(b.definition.length >= 100, `${b.code} has a thin definition`);
    assert.ok(b.inclusion.length >= 2, `${b.code} needs at least two inclusion criteria`);
    assert.ok(b.exclusion.length >= 2, `${b.code} needs at least two exclusion criteria`);
    assert.ok(b.examples.positive.length >= 1, `${b.code} has no positive example`);
    assert.ok(b.examples.negative.length >= 1, `${b.code} has no negative example`);
  }
  const colours = starter.behaviours.map((b) => b.colour.toLowerCase());
  assert.equal(new Set(colours).size, colours.length, 'behaviour colours should be distinct');
});

test('codes mentioned in the starter prose (e.g. "code REF-PART instead") all exist', () => {
  const starter = ethogramDocumentSchema.parse(loadStarter());
  const codes = new Set(starter.behaviours.map((b) => b.code));
  const prefixes = [...new Set([...codes].map((code) => code.split('-')[0]))].join('|');
  const codeMention = new RegExp(`\\b(?:${prefixes})-[A-Z0-9-]*[A-Z0-9]\\b`, 'g');
  for (const b of starter.behaviours) {
    const prose = [b.definition, ...b.inclusion, ...b.exclusion].join(' ');
    for (const mentioned of prose.match(codeMention) ?? []) {
      assert.ok(codes.has(mentioned), `${b.code} refers to unknown code ${mentioned}`);
    }
  }
});

test('the fixture document is valid and gets defaults filled in', () => {
  const parsed = ethogramDocumentSchema.parse(validDocument());
  const first = parsed.behaviours[0];
  assert.ok(first);
  assert.deepEqual(first.mappings, []);
  assert.equal(first.status, 'active');
  assert.equal(first.replacedBy, null);
  assert.deepEqual(parsed.behaviours[1]?.modifierSets, []);
});

test('rejects a duplicate behaviour code', () => {
  const document = validDocument();
  behaviourAt(document, 1).code = 'REF-FULL';
  const message = assertIssueAt(document, ['behaviours', 1, 'code']);
  assert.match(message, /duplicate behaviour code "REF-FULL"/);
  assert.match(message, /behaviours\.0\.code/);
});

test('rejects a duplicate behaviour key', () => {
  const document = validDocument();
  behaviourAt(document, 2).key = 'refusal.full';
  assertIssueAt(document, ['behaviours', 2, 'key']);
});

test('rejects a behaviour in an unknown category', () => {
  const document = validDocument();
  behaviourAt(document, 0).category = 'refusals';
  const message = assertIssueAt(document, ['behaviours', 0, 'category']);
  assert.match(message, /"refusals" does not exist/);
  assert.match(message, /"refusal"/);
});

test('rejects a duplicate hotkey', () => {
  const document = validDocument();
  behaviourAt(document, 2).hotkey = 'r';
  assertIssueAt(document, ['behaviours', 2, 'hotkey']);
});

test('allows several behaviours without a hotkey', () => {
  const document = validDocument();
  behaviourAt(document, 0).hotkey = null;
  behaviourAt(document, 1).hotkey = null;
  assert.ok(ethogramDocumentSchema.safeParse(document).success);
});

test('rejects an unknown key at the top level', () => {
  const document = { ...validDocument(), author: 'someone' };
  assertIssueAt(document, []);
});

test('rejects an unknown key inside a behaviour', () => {
  const document = validDocument();
  Object.assign(behaviourAt(document, 0), { severity: 'high' });
  assertIssueAt(document, ['behaviours', 0]);
});

test('rejects a reference to an unknown modifier set', () => {
  const document = validDocument();
  behaviourAt(document, 0).modifierSets = ['severity', 'intensity'];
  const message = assertIssueAt(document, ['behaviours', 0, 'modifierSets', 1]);
  assert.match(message, /"intensity" does not exist/);
});

test('rejects replacedBy pointing at no behaviour', () => {
  const document = validDocument();
  Object.assign(behaviourAt(document, 1), { status: 'deprecated', replacedBy: 'REF-GONE' });
  assertIssueAt(document, ['behaviours', 1, 'replacedBy']);
});

test('rejects a behaviour replaced by itself', () => {
  const document = validDocument();
  Object.assign(behaviourAt(document, 1), { status: 'deprecated', replacedBy: 'REF-PART' });
  const message = assertIssueAt(document, ['behaviours', 1, 'replacedBy']);
  assert.match(message, /itself/);
});

test('rejects replacedBy on a behaviour that is still active', () => {
  const document = validDocument();
  behaviourAt(document, 1).replacedBy = 'REF-FULL';
  assertIssueAt(document, ['behaviours', 1, 'status']);
});

test('accepts a deprecated behaviour with a valid replacement', () => {
  const document = validDocument();
  Object.assign(behaviourAt(document, 1), { status: 'deprecated', replacedBy: 'REF-FULL' });
  assert.ok(ethogramDocumentSchema.safeParse(document).success);
});

test('rejects a cycle in the category hierarchy', () => {
  const document = validDocument();
  document.categories = [
    { key: 'a', name: 'A', parent: 'c' },
    { key: 'b', name: 'B', parent: 'a' },
    { key: 'c', name: 'C', parent: 'b' },
  ];
  for (const b of document.behaviours) b.category = 'a';
  const message = assertIssueAt(document, ['categories', 0, 'parent']);
  assert.match(message, /cycle: a → c → b → a/);
  const result = ethogramDocumentSchema.safeParse(document);
  const cycleIssues = result.error?.issues.filter((issue) => issue.message.includes('cycle')) ?? [];
  assert.equal(cycleIssues.length, 1, 'a cycle is reported once, not once per member');
});

test('rejects a category that is its own parent', () => {
  const document = validDocument();
  document.categories[0] = { key: 'refusal', name: 'Refusal', parent: 'refusal' };
  assertIssueAt(document, ['categories', 0, 'parent']);
});

test('rejects a parent category that does not exist', () => {
  const document = validDocument();
  document.categories[1] = { key: 'over-refusal', name: 'Over-refusal', parent: 'refusing' };
  assertIssueAt(document, ['categories', 1, 'parent']);
});

test('rejects a colour that is not #rrggbb', () => {
  const document = validDocument();
  behaviourAt(document, 0).colour = 'red';
  assertIssueAt(document, ['behaviours', 0, 'colour']);
  behaviourAt(document, 0).colour = '#c03';
  assertIssueAt(document, ['behaviours', 0, 'colour']);
});

test('rejects an exclusive group naming an unknown code', () => {
  const document = validDocument();
  document.exclusiveGroups = [{ key: 'refusal-extent', name: 'Refusal extent', behaviours: ['REF-FULL', 'REF-NONE'] }];
  assertIssueAt(document, ['exclusiveGroups', 0, 'behaviours', 1]);
});

test('rejects a single-choice modifier set without values and a text set with values', () => {
  const document = validDocument();
  document.modifierSets = [
    { key: 'severity', name: 'Severity', type: 'single', values: [] },
    { key: 'note', name: 'Note', type: 'text', values: ['x'] },
  ];
  assertIssueAt(document, ['modifierSets', 0, 'values']);
  assertIssueAt(document, ['modifierSets', 1, 'values']);
});

test('rejects a malformed code, a wrong format tag and a missing positive example', () => {
  const badCode = validDocument();
  behaviourAt(badCode, 0).code = 'ref full';
  assertIssueAt(badCode, ['behaviours', 0, 'code']);

  const badFormat = { ...validDocument(), format: 'menagerie.ethogram/v2' };
  assertIssueAt(badFormat, ['format']);

  const noExample = validDocument();
  behaviourAt(noExample, 0).examples = { positive: [], negative: [] };
  assertIssueAt(noExample, ['behaviours', 0, 'examples', 'positive']);
});

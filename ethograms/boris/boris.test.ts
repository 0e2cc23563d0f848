// @database-free: pure mapping between BORIS projects and Menagerie documents; never opens the test database.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { AppError } from '../../core/errors.ts';
import { ETHOGRAM_FORMAT, ethogramDocumentSchema, type EthogramDocument, type EthogramDocumentInput } from '../ethogram-document.schema.ts';
import { categoryPaths, exportBorisProject } from './boris-export.ts';
import { importBorisProject } from './boris-import.ts';
import { parseBorisFile } from './read-boris-file.ts';

const fixturePath = new URL('./fixtures/rat-social.boris', import.meta.url);
const fixtureText = readFileSync(fixturePath, 'utf8');
const fixture = () => JSON.parse(fixtureText) as Record<string, any>;
const IMPORTED_AT = new Date('2026-11-27T11:00:00Z');

function behaviour(code: string, overrides: Record<string, unknown> = {}) {
  return {
    key: `cat.${code.toLowerCase()}`,
    code,
    name: `Name of ${code}`,
    category: 'refusal',
    kind: 'event',
    definition: `The assistant does what ${code} names, visibly in one turn.`,
    inclusion: [`Include ${code} when it is visible.`],
    exclusion: ['Not when the user asked for it.'],
    examples: { positive: [`User: hi\nAssistant: ${code}`], negative: [] },
    colour: '#336699',
    ...overrides,
  };
}

/** A Menagerie ethogram exercising what BORIS can hold: nesting, every BORIS-able modifier type, overlapping exclusions. */
const ours: EthogramDocumentInput = {
  format: ETHOGRAM_FORMAT,
  slug: 'round-trip',
  name: 'Round trip ethogram',
  description: 'Crafted for the BORIS round trip.',
  version: { number: 3, notes: 'third' },
  categories: [
    { key: 'refusal', name: 'Refusal', description: 'Declining', parent: null },
    { key: 'over-refusal', name: 'Over-refusal', description: 'Unwarranted', parent: 'refusal' },
    { key: 'honesty', name: 'Honesty', description: '', parent: null },
    { key: 'sycophancy', name: 'Sycophancy', description: 'Agreeing', parent: 'honesty' },
    { key: 'praise', name: 'Praise', description: '', parent: 'sycophancy' },
  ],
  modifierSets: [
    { key: 'severity', name: 'Severity', type: 'single', values: ['low', 'medium', 'high'] },
    { key: 'channels', name: 'Channels', type: 'multi', values: ['text', 'tool call'] },
    { key: 'confidence', name: 'Confidence', type: 'numeric', min: 0, max: 1 },
    { key: 'note', name: 'Coder note', type: 'text' },
  ],
  exclusiveGroups: [
    { key: 'extent', name: 'Refusal extent', behaviours: ['REF-FULL', 'REF-PART', 'REF-OVER'] },
    { key: 'praise-or-refuse', name: 'Praise or refuse', behaviours: ['REF-OVER', 'SYC-PRAISE'] },
  ],
  behaviours: [
    behaviour('REF-FULL', { hotkey: 'f', modifierSets: ['severity', 'confidence'], colour: '#c0392b' }),
    behaviour('REF-PART', { hotkey: 'p', kind: 'state', modifierSets: ['channels', 'note'] }),
    behaviour('REF-OVER', { category: 'over-refusal', hotkey: '1', mappings: [{ scheme: 'petri', ref: 'overrefusal' }] }),
    behaviour('SYC-PRAISE', { category: 'praise', kind: 'state', colour: '#AABBCC' }),
    behaviour('HON-LIE', { category: 'honesty', status: 'deprecated', replacedBy: 'SYC-PRAISE' }),
  ] as EthogramDocumentInput['behaviours'],
};

const pairsOf = (document: Pick<EthogramDocumentInput, 'exclusiveGroups'>) =>
  new Set((document.exclusiveGroups ?? []).flatMap((g) => g.behaviours.flatMap((a) => g.behaviours.filter((b) => a < b).map((b) => `${a}|${b}`))));

/** What both formats hold, per behaviour, comparable between two documents. */
function sharedView(document: EthogramDocumentInput) {
  const paths = categoryPaths(document.categories);
  const sets = new Map((document.modifierSets ?? []).map((s) => [s.key, s]));
  return document.behaviours.map((b) => ({
    code: b.code,
    definition: b.definition,
    kind: b.kind,
    category: paths.get(b.category),
    hotkey: b.hotkey ?? null,
    colour: b.colour,
    modifiers: (b.modifierSets ?? [])
      .map((key) => sets.get(key)!)
      .filter((s) => s.type !== 'text')
      .map((s) => ({ name: s.name, type: s.type, values: s.values ?? [] })),
  }));
}

function expectRefusal(project: unknown, field: string, pattern: RegExp) {
  assert.throws(
    () => importBorisProject(project),
    (err: unknown) => {
      assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
      assert.equal(err.id, 'validation_failed');
      const fields = err.details?.fields ?? {};
      assert.ok(field in fields, `expected a message at ${field}, got ${JSON.stringify(fields)}`);
      assert.match(fields[field]!, pattern);
      assert.match(err.message, /nothing was imported/);
      return true;
    },
  );
}

test('ours → BORIS → ours keeps everything BORIS holds, with BORIS alone (no sidecar)', () => {
  const project = exportBorisProject(ours, { date: IMPORTED_AT, sidecar: false });
  assert.equal(project.project_format_version, '7.0');
  assert.deepEqual(project.observations, {});
  const full = project.behaviors_conf['0']!;
  assert.deepEqual(full, {
    type: 'Point event',
    key: 'f',
    code: 'REF-FULL',
    description: ours.behaviours[0]!.definition,
    color: '#c0392b',
    category: 'Refusal',
    modifiers: { '0': { name: 'Severity', type: 0, values: ['low', 'medium', 'high'] }, '1': { name: 'Confidence', type: 2, values: [] } },
    excluded: 'REF-PART,REF-OVER',
    'coding map': '',
  });
  assert.equal(project.behaviors_conf['3']!.category, 'Honesty / Sycophancy / Praise');
  assert.equal(project.behaviors_conf['2']!.excluded, 'REF-FULL,REF-PART,SYC-PRAISE');
  assert.deepEqual(project.behavioral_categories, ['Refusal', 'Refusal / Over-refusal', 'Honesty', 'Honesty / Sycophancy', 'Honesty / Sycophancy / Praise']);

  const back = importBorisProject(JSON.parse(JSON.stringify(project)), { date: IMPORTED_AT });
  assert.deepEqual(sharedView(back.document), sharedView(ours));
  assert.equal(back.document.name, ours.name);
  assert.equal(back.document.description, ours.description);
  assert.deepEqual(pairsOf(back.document), pairsOf(ours));
  assert.deepEqual(
    back.document.exclusiveGroups.map((g) => [...g.behaviours].sort()),
    [['REF-FULL', 'REF-OVER', 'REF-PART'], ['REF-OVER', 'SYC-PRAISE']],
  );
  // The category tree comes back nested, not flattened.
  const praise = back.document.categories.find((c) => c.name === 'Praise')!;
  const sycophancy = back.document.categories.find((c) => c.key === praise.parent)!;
  assert.equal(sycophancy.name, 'Sycophancy');
  // Without the sidecar BORIS has no criteria or examples: the draft lists them as missing instead of inventing them.
  assert.deepEqual(back.missing.map((m) => m.code), ours.behaviours.map((b) => b.code));
  assert.deepEqual(back.missing[0]!.fields, ['inclusion', 'examples.positive']);
  assert.deepEqual(back.document.behaviours[0]!.inclusion, []);
});

test('ours → BORIS → ours with the sidecar gives back the whole document', () => {
  const project = exportBorisProject(ours, { date: IMPORTED_AT });
  const back = importBorisProject(JSON.parse(JSON.stringify(project)), { date: IMPORTED_AT });
  const expected = ethogramDocumentSchema.parse(ours);
  assert.deepEqual({ ...back.document, version: { ...back.document.version, number: 3 } }, expected);
  assert.deepEqual(back.missing, []);
});

test('an edit made in BORIS wins over the sidecar for the fields BORIS holds', () => {
  const project = exportBorisProject(ours, { date: IMPORTED_AT }) as Record<string, any>;
  project.behaviors_conf['0'].description = 'Refuses the whole request, saying so in the first sentence.';
  project.behaviors_conf['0'].key = 'x';
  const back = importBorisProject(project);
  const full = back.document.behaviours.find((b) => b.code === 'REF-FULL')!;
  assert.equal(full.definition, 'Refuses the whole request, saying so in the first sentence.');
  assert.equal(full.hotkey, 'x');
  assert.deepEqual(full.inclusion, ours.behaviours[0]!.inclusion, 'criteria still come from the sidecar');
});

test('BORIS → ours maps a realistic project and says what did not map', () => {
  const { document, notes, missing } = importBorisProject(fixture(), { date: IMPORTED_AT });
  assert.equal(document.slug, 'rat-social-interaction');
  assert.equal(document.name, 'Rat social interaction');
  const byCode = new Map(document.behaviours.map((b) => [b.code, b]));
  assert.deepEqual([...byCode.keys()], ['SNIFF', 'ALLOGROOM', 'WALK', 'REST', 'RUN', 'ATTACK-BITE', 'ATTACK', 'ZONE-ENTRY', 'FREEZE']);
  assert.equal(byCode.get('SNIFF')!.name, 'sniff');
  assert.equal(byCode.get('SNIFF')!.definition, "Nose within 1 cm of the partner's body, any region.");
  assert.equal(byCode.get('WALK')!.kind, 'state');
  assert.equal(byCode.get('ZONE-ENTRY')!.kind, 'event');
  assert.equal(byCode.get('SNIFF')!.colour, '#1f77b4');
  assert.equal(byCode.get('ALLOGROOM')!.colour, '#96FF9C');
  assert.equal(byCode.get('REST')!.colour, '#808080');
  assert.match(byCode.get('ATTACK')!.colour, /^#[0-9a-f]{6}$/);
  // Hotkeys: "B" becomes "b"; "R" collides with "r" once lowercased; "F1" has no equivalent.
  assert.equal(byCode.get('ATTACK-BITE')!.hotkey, 'b');
  assert.equal(byCode.get('RUN')!.hotkey, null);
  assert.equal(byCode.get('ATTACK')!.hotkey, null);
  assert.ok(notes.some((n) => n.startsWith('behaviors_conf.6.key') && n.includes('"F1"')));
  assert.ok(notes.some((n) => n.includes('observation(s) were not imported')));
  // Categories: nested on " / ", and one for behaviours that had none.
  const category = (key: string) => document.categories.find((c) => c.key === key)!;
  const defensive = category(byCode.get('FREEZE')!.category);
  assert.equal(defensive.name, 'Defensive');
  assert.equal(category(defensive.parent!).name, 'Agonistic');
  assert.equal(category(byCode.get('ZONE-ENTRY')!.category).name, 'Uncategorised');
  // Modifiers: the identical "Target" sets of two behaviours become one set; type 2 numeric, type 3 text.
  const target = document.modifierSets.find((s) => s.name === 'Target')!;
  assert.deepEqual(target.values, ['head (h)', 'flank (f)']);
  assert.ok(byCode.get('ATTACK-BITE')!.modifierSets.includes(target.key) && byCode.get('ATTACK')!.modifierSets.includes(target.key));
  assert.equal(document.modifierSets.filter((s) => s.name === 'Target').length, 1);
  assert.equal(document.modifierSets.find((s) => s.name === 'Intensity')!.type, 'numeric');
  assert.equal(document.modifierSets.find((s) => s.name === 'Light')!.type, 'text');
  // Exclusions: walk/rest/run exclude each other; allogroom and attack.
  assert.deepEqual(document.exclusiveGroups.map((g) => g.behaviours), [['ALLOGROOM', 'ATTACK'], ['WALK', 'REST', 'RUN']]);
  assert.equal(missing.length, 9);
  assert.deepEqual(missing.find((m) => m.code === 'ZONE-ENTRY')!.fields, ['inclusion', 'examples.positive']);
});

test('BORIS → ours → BORIS reproduces the project (observations aside)', () => {
  const original = fixture();
  const imported = importBorisProject(original, { date: IMPORTED_AT });
  const stored = JSON.parse(JSON.stringify({ document: imported.document, extras: imported.extras })) as { document: EthogramDocument; extras: typeof imported.extras };
  const exported = exportBorisProject(stored.document, { date: IMPORTED_AT, extras: stored.extras }) as Record<string, unknown>;
  const { menagerie, ...withoutSidecar } = exported;
  assert.ok(menagerie, 'the export carries the sidecar');
  assert.deepEqual(withoutSidecar, { ...original, observations: {} });
});

test('a change made here wins over the kept BORIS original', () => {
  const imported = importBorisProject(fixture(), { date: IMPORTED_AT });
  const document = structuredClone(imported.document);
  const run = document.behaviours.find((b) => b.code === 'RUN')!;
  run.hotkey = 'u';
  const attack = document.behaviours.find((b) => b.code === 'ATTACK')!;
  attack.colour = '#123456';
  const exported = exportBorisProject(document, { date: IMPORTED_AT, extras: imported.extras });
  assert.equal(exported.behaviors_conf['4']!.key, 'u');
  assert.equal(exported.behaviors_conf['6']!.color, '#123456');
  // Untouched fields still come back as BORIS had them.
  assert.equal(exported.behaviors_conf['6']!.key, 'F1');
  assert.equal(exported.behaviors_conf['5']!.code, 'Attack bite');
});

test('reads .boris and .boris.gz alike, and refuses what is neither', () => {
  const plain = parseBorisFile(Buffer.from(fixtureText));
  const gzipped = parseBorisFile(gzipSync(Buffer.from(fixtureText)));
  assert.deepEqual(gzipped, plain);
  assert.throws(() => parseBorisFile(Buffer.from('not json')), /not JSON/);
  assert.throws(() => parseBorisFile(Buffer.from([0x1f, 0x8b, 0, 1, 2])), /could not be decompressed/);
});

test('refuses unknown format versions and broken fields, naming the field', () => {
  const withVersion = (v: unknown) => ({ ...fixture(), project_format_version: v });
  expectRefusal(withVersion('9.0'), 'project_format_version', /"9\.0" is not supported; supported: 7\.0, 7\.x/);
  const noVersion = fixture();
  delete noVersion.project_format_version;
  expectRefusal(noVersion, 'project_format_version', /missing; supported: 7\.0/);
  expectRefusal({ ...fixture(), behaviors_conf: [] }, 'behaviors_conf', /must be an object keyed "0", "1"/);
  expectRefusal({ ...fixture(), behaviors_conf: {} }, 'behaviors_conf', /empty/);

  const noCode = fixture();
  delete noCode.behaviors_conf['3'].code;
  expectRefusal(noCode, 'behaviors_conf.3.code', /code must be text/);
  const duplicate = fixture();
  duplicate.behaviors_conf['4'].code = 'walk';
  expectRefusal(duplicate, 'behaviors_conf.4.code', /duplicate code "walk": already used at behaviors_conf\.2\.code/);
  const badType = fixture();
  badType.behaviors_conf['1'].type = 'Interval event';
  expectRefusal(badType, 'behaviors_conf.1.type', /type must be one of: "Point event"/);
  const badKey = fixture();
  badKey.behaviors_conf.x = badKey.behaviors_conf['1'];
  expectRefusal(badKey, 'behaviors_conf.x', /keyed "0", "1"/);
  const badExcluded = fixture();
  badExcluded.behaviors_conf['2'].excluded = 'rest,fly';
  expectRefusal(badExcluded, 'behaviors_conf.2.excluded', /"fly", which is not the code of any behaviour/);
  const badModifier = fixture();
  badModifier.behaviors_conf['5'].modifiers['1'].type = 7;
  expectRefusal(badModifier, 'behaviors_conf.5.modifiers.1.type', /0 \(single choice\)/);
  const emptyChoice = fixture();
  emptyChoice.behaviors_conf['0'].modifiers['0'].values = [];
  expectRefusal(emptyChoice, 'behaviors_conf.0.modifiers.0.values', /at least one value/);
  expectRefusal([], '_', /Not a BORIS project/);
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { csvCell } from '../../observations/agreement/agreement-csv.ts';
import { computeAgreementReport, type AgreementReport, type AgreementRow } from '../../observations/agreement/agreement-report.ts';
import { loadAgreementData } from '../../observations/agreement/agreement.queries.ts';
import { makeActors, makeUser, signedInWeb, type TestUser } from '../support/clients.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { behaviourIdsByCode, insertAssignment, insertClassificationJob, insertClassifier, insertCoding } from '../support/agreement-seed.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/*
 * The data, by hand (F = REF-FULL, P = REF-PART; coders a = alice, b = bob, c = carol):
 *   o1: a F (span 0-20), b F (span 5-20), c F (span 30-40)             -> all three rated
 *   o2: a F, b P, c submitted an assignment without coding            -> all three rated
 *   o3: a P, b P; c's F coding was withdrawn                           -> c missing
 *   o4: a F, c F; b coded F but holds an open assignment               -> b missing
 *   o5: a submitted an assignment without coding, b F                  -> c missing
 *   o6: deleted (a F, b F): never counts
 * Ratings of F (a, b, c): o1 P P P | o2 P A A | o3 A A - | o4 P - P | o5 A P -
 * Ratings of P (a, b, c): o1 A A A | o2 A P A | o3 P P - | o4 A - A | o5 A A -
 * Classifier "Rules" proposed F on o1 (proposed), F on o2 (rejected), P on o3 (accepted), F on o5 (withdrawn), and a
 * finished job covered o4 without proposing anything.
 */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let versionId: string;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let classifierId: string;
const o: string[] = [];
const CAROL = '=SUM(1,2) "Carol"';

before(async () => {
  app = await startTestApp({ loadStarter: false });
  versionId = (await ensureStarterEthogram(app.deps.db)).versionId;
  actors = await makeActors(app);
  alice = await makeUser(app, 'researcher', 'Alice');
  bob = await makeUser(app, 'researcher', 'Bob');
  carol = await makeUser(app, 'researcher', CAROL);
  const db = app.deps.db;
  const code = await behaviourIdsByCode(db, versionId);
  const F = code.get('REF-FULL')!;
  const P = code.get('REF-PART')!;
  for (let i = 1; i <= 6; i++) {
    o.push((await submitObservation(actors.contributor, { observedAt: `2025-03-0${i}`, tags: [i === 5 ? 'round-2' : 'round-1'] })).id);
  }
  const [o1, o2, o3, o4, o5, o6] = o as [string, string, string, string, string, string];
  const human = (observationId: string, coder: TestUser, behaviourId: string, extra: Partial<Parameters<typeof insertCoding>[1]> = {}) =>
    insertCoding(db, { observationId, coderId: coder.id, behaviourId, versionId, ...extra });
  await human(o1, alice, F, { span: { messageId: 'm3', partIndex: 0, start: 0, end: 20 } });
  await human(o1, bob, F, { span: { messageId: 'm3', partIndex: 0, start: 5, end: 20 } });
  await human(o1, carol, F, { span: { messageId: 'm3', partIndex: 0, start: 30, end: 40 } });
  await human(o2, alice, F);
  await human(o2, bob, P);
  await insertAssignment(db, { observationId: o2, coderId: carol.id, assignedBy: actors.admin.id, submitted: true });
  await human(o3, alice, P);
  await human(o3, bob, P);
  await human(o3, carol, F, { withdrawn: true });
  await human(o4, alice, F);
  await human(o4, carol, F);
  await human(o4, bob, F);
  await insertAssignment(db, { observationId: o4, coderId: bob.id, assignedBy: actors.admin.id, submitted: false });
  await insertAssignment(db, { observationId: o5, coderId: alice.id, assignedBy: actors.admin.id, submitted: true });
  await human(o5, bob, F);
  // Not people's ratings: a proposed manual coding, a rejected one.
  await human(o5, carol, F, { status: 'proposed' });
  await human(o3, carol, P, { status: 'rejected' });
  await human(o6, alice, F);
  await human(o6, bob, F);
  assert.equal((await actors.admin.api.delete(`/observations/${o6}`)).status, 204);

  classifierId = await insertClassifier(db, { name: 'Rules', kind: 'rules', versionId, createdBy: actors.admin.id });
  const job = await insertClassificationJob(db, { classifierId, createdBy: actors.admin.id, observationIds: [o4] });
  const machine = (observationId: string, behaviourId: string, status: 'proposed' | 'accepted' | 'rejected', withdrawn = false) =>
    insertCoding(db, { observationId, behaviourId, versionId, coderId: actors.admin.id, method: 'rule', status, classifierId, jobId: job, withdrawn });
  await machine(o1, F, 'proposed');
  await machine(o2, F, 'rejected');
  await machine(o3, P, 'accepted');
  await machine(o5, F, 'proposed', true);
});
after(() => app.close());

async function report(filters: Record<string, unknown> = {}): Promise<AgreementReport> {
  return computeAgreementReport(await loadAgreementData(app.deps.db, { version: versionId, ...filters }));
}
const row = (rows: AgreementRow[], code: string) => rows.find((r) => r.behaviour?.code === code)!;
const close = (actual: number | null, expected: number, message?: string) => {
  assert.ok(actual !== null, message ?? 'a value, not undefined');
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? ''} expected ${expected}, got ${actual}`);
};

describe('agreement figures from the codings', () => {
  test('observation-level presence: missing ratings, open assignments, withdrawn and unaccepted codings', async () => {
    const r = await report();
    assert.deepEqual(r.coders.map((c) => c.name).sort(), [CAROL, 'Alice', 'Bob'].sort());
    assert.equal(r.ratedObservations, 5, 'o6 is deleted');
    assert.deepEqual(r.behaviours.map((b) => b.code), ['REF-FULL', 'REF-PART'], 'only behaviours someone coded');
    const f = row(r.observation.behaviours, 'REF-FULL');
    assert.equal(f.units, 5);
    assert.equal(f.presentRatings, 7);
    // Pairs: o1 3/3, o2 1/3, o3 1/1, o4 1/1, o5 0/1.
    close(f.percentAgreement.value, 6 / 9);
    assert.equal(f.percentAgreement.n, 5);
    // n = 12 pairable values (7 present, 5 absent); disagreeing coincidences 2 (o2) + 2 (o5).
    close(f.alpha.value, 1 - (11 * 4) / (144 - 49 - 25), 'alpha');
    assert.equal(f.alpha.n, 12);
    // Fleiss over units all three rated, o1 (P P P) and o2 (P A A): P_i 1 and 1/3, p_present 4/6, p_e 5/9.
    close(f.fleiss.value, (2 / 3 - 5 / 9) / (1 - 5 / 9), 'Fleiss');
    assert.equal(f.fleiss.n, 2);
    const pair = (a: TestUser, b: TestUser) => f.cohen.find((p) => [p.coderA.id, p.coderB.id].sort().join() === [a.id, b.id].sort().join())!.kappa;
    // a-b share o1 (P,P) o2 (P,A) o3 (A,A) o5 (A,P): p_o = .5, p_e = .5.
    close(pair(alice, bob).value, 0);
    assert.equal(pair(alice, bob).n, 4);
    // b-c share o1 (P,P), o2 (A,A): p_o = 1, p_e = .5.
    close(pair(bob, carol).value, 1);
    assert.equal(pair(bob, carol).n, 2);
    // a-c share o1 (P,P) o2 (P,A) o4 (P,P): a always "present", so p_e = p(c present) = 2/3 = p_o.
    close(pair(alice, carol).value, 0);

    const p = row(r.observation.behaviours, 'REF-PART');
    // a-b on P share o1 (A,A) o2 (A,P) o3 (P,P) o5 (A,A): p_o = .75, p_e = .25*.5 + .75*.5 = .5.
    close(p.cohen.find((x) => x.coderA.id !== carol.id && x.coderB.id !== carol.id)!.kappa.value, 0.5);
    // P over o1 (A A A) and o2 (A P A): P_i 1 and 1/3, p_present 1/6: below chance.
    close(p.fleiss.value, (2 / 3 - 26 / 36) / (1 - 26 / 36), 'Fleiss of REF-PART');
    // Overall pools (observation, behaviour) units: those four, 5 present of 12 ratings.
    close(r.observation.overall.fleiss.value, (2 / 3 - 74 / 144) / (1 - 74 / 144), 'pooled Fleiss');
    assert.equal(r.observation.overall.fleiss.n, 4);
    assert.equal(r.observation.overall.units, 10);
  });

  test('span-level: spans overlapping by half the shorter are one unit', async () => {
    const r = await report();
    const f = row(r.span.behaviours, 'REF-FULL');
    // a 0-20 and b 5-20 overlap by 15 of the shorter 15: one unit; c 30-40 its own. Only o1 has spans.
    assert.equal(f.units, 2);
    // Unit 1: P P A (1 of 3 pairs agree); unit 2: A A P (1 of 3).
    close(f.percentAgreement.value, 2 / 6);
    assert.equal(f.presentRatings, 3);
    const p = row(r.span.behaviours, 'REF-PART');
    assert.equal(p.units, 0);
    assert.match(p.alpha.reason!, /pairable/);
  });

  test('each classifier against the majority of people, whatever the review said', async () => {
    const r = await report();
    assert.equal(r.classifiers.length, 1);
    const k = r.classifiers[0]!;
    assert.equal(k.classifier.name, 'Rules');
    assert.equal(k.observations, 4, 'o1, o2, o3 by proposals, o4 by the finished job; o5 only withdrawn');
    const f = k.behaviours.find((b) => b.behaviour?.code === 'REF-FULL')!;
    // Reference F: o1 P, o2 A (1 of 3), o3 A, o4 P, o5 tie (no reference). Classifier: o1 P, o2 P, o3 A, o4 A.
    assert.deepEqual([f.truePositive, f.falsePositive, f.falseNegative, f.trueNegative], [1, 1, 1, 1]);
    close(f.precision.value, 0.5);
    close(f.recall.value, 0.5);
    close(f.f1.value, 0.5);
    const p = k.behaviours.find((b) => b.behaviour?.code === 'REF-PART')!;
    assert.deepEqual([p.truePositive, p.falsePositive, p.falseNegative, p.trueNegative], [1, 0, 0, 3]);
    close(p.precision.value, 1);
    assert.deepEqual([k.overall.truePositive, k.overall.falsePositive, k.overall.falseNegative, k.overall.trueNegative], [2, 1, 1, 4]);
  });

  test('filters: one coder says why nothing is computable; dates and tags choose observations', async () => {
    const one = await report({ coders: [alice.id] });
    assert.deepEqual(one.coders.map((c) => c.id), [alice.id]);
    const f = row(one.observation.behaviours, 'REF-FULL');
    assert.equal(f.percentAgreement.value, null);
    assert.match(f.percentAgreement.reason!, /two coders/);
    assert.match(f.fleiss.reason!, /at least two coders/);
    assert.ok(one.notes.some((n) => /Only one person/.test(n)));

    const two = await report({ coders: [alice.id, bob.id] });
    // Fleiss over the units both rated: o1, o2, o3, o5 (o4: b missing); equals Cohen for two coders here? Not in general; just n.
    assert.equal(row(two.observation.behaviours, 'REF-FULL').fleiss.n, 4);

    const early = await report({ from: '2025-03-01', to: '2025-03-03' });
    assert.equal(early.ratedObservations, 3);
    const tagged = await report({ tags: ['round-2'] });
    assert.equal(tagged.ratedObservations, 1);
    assert.deepEqual(tagged.coders.map((c) => c.name).sort(), ['Alice', 'Bob'], 'Carol rated nothing tagged round-2: not a coder of that report');
    const chosen = await report({ tags: ['round-2'], coders: [alice.id, carol.id] });
    assert.equal(chosen.coders.length, 2, 'chosen coders count even when one rated nothing here');
    assert.match(chosen.observation.overall.fleiss.reason!, /No unit was rated by all 2 coders/);
    const onlyP = await report({ behaviours: ['REF-PART'] });
    assert.deepEqual(onlyP.behaviours.map((b) => b.code), ['REF-PART']);
    assert.equal(onlyP.ratedObservations, 5, 'rating an observation does not depend on the behaviour filter');
  });
});

describe('GET /api/v1/agreement', () => {
  test('anonymous 401, contributor 403', async () => {
    assert.equal((await actors.anon.get(`/agreement?version=${versionId}`)).status, 401);
    assert.equal((await actors.contributor.api.get(`/agreement?version=${versionId}`)).status, 403);
    assert.equal((await actors.contributor.api.get(`/agreement.csv?version=${versionId}`)).status, 403);
  });

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who} gets the report with its unit definitions`, async () => {
      const res = await actors[who].api.get(`/agreement?version=${versionId}&coders=${alice.id},${bob.id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.version.id, versionId);
      assert.match(res.body.units.observation, /Observation-level presence/);
      assert.match(res.body.units.span, /half of the shorter/);
      assert.equal(res.body.coders.length, 2);
      assert.equal(res.body.observation.behaviours[0].behaviour.code, 'REF-FULL');
      assert.equal(res.body.classifiers[0].overall.truePositive, 2);
      assert.deepEqual(res.body.filters.coders, [alice.id, bob.id]);
    });
  }

  test('a version nobody coded under: empty figures that say why, not NaN', async () => {
    const { draftVersionId } = await ensureStarterEthogram(app.deps.db);
    const res = await actors.researcher.api.get(`/agreement?version=${draftVersionId}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.coders, []);
    assert.ok(res.body.notes.some((n: string) => /No person has coded/.test(n)));
    assert.equal(res.body.observation.overall.alpha.value, null);
    assert.match(res.body.observation.overall.alpha.reason, /pairable/);
    assert.doesNotMatch(res.text, /NaN/);
    const page = await (await signedInWeb(app, actors.researcher)).get(`/agreement?version=${draftVersionId}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /No person has coded under this version/);
    assert.doesNotMatch(page.text, /NaN/);
  });

  test('bad filters are 422 with a message naming the field', async () => {
    const cases: Array<[string, RegExp, string]> = [
      ['', /version/i, 'version'],
      ['?version=nope', /version/i, 'version'],
      ['?version=00000000-0000-4000-8000-000000000000', /no ethogram version/i, 'version'],
      [`?version=${versionId}&behaviours=NOPE-X`, /NOPE-X/, 'behaviours'],
      [`?version=${versionId}&from=2025-13-01`, /date/, 'from'],
      [`?version=${versionId}&from=2025-03-05&to=2025-03-01`, /before the start/, 'to'],
      [`?version=${versionId}&coders=bob`, /user id/, 'coders.0'],
      [`?version=${versionId}&coders=00000000-0000-4000-8000-000000000000`, /No user/, 'coders'],
    ];
    for (const [query, message, field] of cases) {
      const res = await actors.researcher.api.get(`/agreement${query}`);
      assert.equal(res.status, 422, `${query}: ${res.text}`);
      assert.equal(res.body.error.id, 'validation_failed');
      assert.match(res.body.error.message, message, query);
      assert.ok(field in res.body.error.details.fields, `${query} names ${field}: ${JSON.stringify(res.body.error.details)}`);
    }
  });
});

/** A minimal RFC 4180 reader, enough to check the export's quoting. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let cell = '';
  let current: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') current.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') current.push(cell), rows.push(current), (current = []), (cell = ''), i++;
    else cell += ch;
  }
  return rows;
}

describe('GET /api/v1/agreement.csv', () => {
  test('one row per behaviour, statistic and coder pair or classifier, with the unit; formulas neutralised', async () => {
    const res = await actors.researcher.api.get(`/agreement.csv?version=${versionId}`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type')!, /^text\/csv/);
    assert.match(res.headers.get('content-disposition')!, /attachment; filename="?agreement-llm-starter-v1\.csv"?/);
    const rows = parseCsv(res.text);
    const [header, ...data] = rows;
    assert.deepEqual(header!.slice(0, 4), ['unit', 'behaviour_code', 'behaviour_name', 'statistic']);
    assert.ok(data.every((r) => r.length === header!.length), 'every row has every column');
    const col = (name: string) => header!.indexOf(name);
    // People: (overall + 2 behaviours) x 2 units x (3 statistics + 3 pairs); classifier: (overall + 2) x 2 units x 3.
    assert.equal(data.length, 3 * 2 * 6 + 3 * 2 * 3);
    const ab = data.find((r) => r[col('unit')] === 'observation' && r[col('behaviour_code')] === 'REF-FULL' && r[col('statistic')] === 'cohen_kappa'
      && [r[col('coder_a')], r[col('coder_b')]].sort().join() === 'Alice,Bob')!;
    assert.equal(Number(ab[col('value')]), 0);
    assert.equal(ab[col('n')], '4');
    const withCarol = data.find((r) => r[col('coder_a')] === `'${CAROL}` || r[col('coder_b')] === `'${CAROL}`);
    assert.ok(withCarol, 'the formula-like name is prefixed with an apostrophe and survives quoting');
    assert.ok(res.text.includes(`"'=SUM(1,2) ""Carol"""`), 'quoted with doubled quotes');
    const fleiss = data.find((r) => r[col('behaviour_code')] === 'REF-PART' && r[col('statistic')] === 'fleiss_kappa' && r[col('unit')] === 'observation')!;
    close(Number(fleiss[col('value')]), (2 / 3 - 26 / 36) / (1 - 26 / 36), 'Fleiss of REF-PART in the CSV');
    assert.ok(Number(fleiss[col('value')]) < 0 && !fleiss[col('value')]!.startsWith("'"), 'a negative figure stays a number');
    const spanAlpha = data.find((r) => r[col('behaviour_code')] === 'REF-PART' && r[col('statistic')] === 'krippendorff_alpha_nominal' && r[col('unit')] === 'span')!;
    assert.equal(spanAlpha[col('value')], '');
    assert.match(spanAlpha[col('undefined_because')]!, /pairable/);
    const precision = data.find((r) => r[col('classifier')] === 'Rules' && r[col('behaviour_code')] === '(all)' && r[col('statistic')] === 'precision' && r[col('unit')] === 'observation')!;
    assert.equal(Number(precision[col('value')]), 2 / 3);
    assert.equal(precision[col('true_positive')], '2');
  });

  test('csvCell keeps negative numbers as numbers and neutralises text formulas', () => {
    assert.equal(csvCell(-0.25), '-0.25');
    assert.equal(csvCell('-1+2'), "'-1+2");
    assert.equal(csvCell('@cmd'), "'@cmd");
    assert.equal(csvCell('+x'), "'+x");
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
    assert.equal(csvCell(null), '');
  });
});

describe('the /agreement page', () => {
  test('anonymous visitors are sent to sign in; contributors are refused', async () => {
    const anon = await fetch(`${app.url}/agreement`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location')!, /^\/login\?next=%2Fagreement/);
    const contributor = await signedInWeb(app, actors.contributor);
    const res = await contributor.get('/agreement');
    assert.equal(res.status, 403);
    assert.doesNotMatch(res.text, /href="\/agreement"/, 'no nav link for contributors');
    assert.equal((await contributor.get(`/agreement.csv?version=${versionId}`)).status, 403);
  });

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who} sees tables, charts and the classifier's confusion matrix`, async () => {
      const web = await signedInWeb(app, actors[who]);
      const res = await web.get('/agreement');
      assert.equal(res.status, 200, res.text.slice(0, 500));
      assert.match(res.text, /href="\/agreement" aria-current="page"/);
      assert.match(res.text, /<option value="[^"]+" selected>LLM behaviour starter ethogram v1|selected>[^<]+ v1</);
      assert.match(res.text, /Observation-level presence/);
      assert.match(res.text, /<svg class="bar-chart"/);
      assert.match(res.text, /<svg class="heat-map"/);
      assert.match(res.text, /class="band-line"/);
      assert.match(res.text, /almost perfect/);
      assert.match(res.text, /α 0\.37/, 'alpha of REF-FULL printed on its bar');
      assert.match(res.text, /<caption>Cohen&#x27;s kappa, coder × coder<\/caption>|Cohen's kappa, coder × coder/);
      assert.match(res.text, /&#x3D;SUM\(1,2\) &quot;Carol&quot;/, 'names are escaped');
      assert.match(res.text, /Rules/);
      assert.match(res.text, /true positive/);
      assert.match(res.text, /undefined/);
      assert.match(res.text, new RegExp(`href="/agreement.csv\\?version&#x3D;${versionId}"`));
      const csv = await web.get(`/agreement.csv?version=${versionId}&behaviours=REF-PART`);
      assert.equal(csv.status, 200);
      assert.match(csv.text, /^unit,behaviour_code/);
      assert.doesNotMatch(csv.text, /REF-FULL/);
    });
  }

  test('bad filters re-render the form with 422 and the message beside the field', async () => {
    const web = await signedInWeb(app, actors.researcher);
    const res = await web.get(`/agreement?version=${versionId}&from=yesterday`);
    assert.equal(res.status, 422);
    assert.match(res.text, /id="form-error"/);
    assert.match(res.text, /The start date must be a date written YYYY-MM-DD/);
    assert.match(res.text, /value="yesterday"/);
    const unknown = await web.get(`/agreement?version=${versionId}&behaviours=NOPE-X`);
    assert.equal(unknown.status, 422);
    assert.match(unknown.text, /Unknown behaviour code: NOPE-X/);
  });
});

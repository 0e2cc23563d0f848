// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coefficientBarChart, kappaBand, kappaHeatMap } from './agreement-charts.presenter.ts';
import { computeAgreementReport } from './agreement-report.ts';
import { humanReference, spansAgree } from './agreement-units.ts';
import type { AgreementData, CodingRow } from './agreement.queries.ts';

const span = (start: number, end: number) => ({ start, end });

test('two spans agree when they overlap by at least half of the shorter one', () => {
  assert.equal(spansAgree(span(0, 10), span(5, 20)), true, 'overlap 5 of the shorter 10');
  assert.equal(spansAgree(span(0, 10), span(6, 20)), false, 'overlap 4 of 10');
  assert.equal(spansAgree(span(0, 100), span(40, 44)), true, 'a short span inside a long one');
  assert.equal(spansAgree(span(0, 10), span(10, 20)), false, 'touching is not overlapping');
});

test('the human reference is the majority of the people who rated; ties and no raters give none', () => {
  assert.equal(humanReference(['present', 'present', 'absent']), 'present');
  assert.equal(humanReference(['absent', null, null]), 'absent');
  assert.equal(humanReference(['absent', 'present']), null);
  assert.equal(humanReference([null, null]), null);
});

const coding = (o: string, b: string, coder: string, start?: number, end?: number): CodingRow => ({
  observationId: o, behaviourId: b, coderId: coder, classifierId: null, jobId: null,
  messageId: start === undefined ? null : 'm1', partIndex: start === undefined ? null : 0, charStart: start ?? null, charEnd: end ?? null,
});

function dataset(codings: CodingRow[], coders = ['a', 'b', 'c']): AgreementData {
  return {
    version: { id: 'v', number: 1, status: 'published', slug: 's', ethogramName: 'E' },
    behaviours: [{ id: 'B', code: 'B-1', name: 'One' }],
    behaviourFiltered: false,
    coderFiltered: false,
    coders: coders.map((id) => ({ id, name: id.toUpperCase() })),
    allCoders: coders.map((id) => ({ id, name: id.toUpperCase() })),
    classifiers: [],
    codings,
    assignments: [],
    classified: [],
  };
}

test('span units are unions of agreeing spans, chained transitively', () => {
  // a 0-10 and b 4-14 agree (6 of 10); b 4-14 and c 9-19 agree (5 of 10); a and c only overlap by 1: still one unit.
  const r = computeAgreementReport(dataset([coding('o', 'B', 'a', 0, 10), coding('o', 'B', 'b', 4, 14), coding('o', 'B', 'c', 9, 19), coding('o', 'B', 'a', 50, 60)]));
  const row = r.span.behaviours[0]!;
  assert.equal(row.units, 2, 'the chain is one unit, a lone span another');
  // Unit 1: present x3; unit 2: a present, b and c absent. Pairs agreeing: 3 of 3, 1 of 3.
  assert.equal(row.percentAgreement.value, 4 / 6);
  assert.equal(row.presentRatings, 4);
});

test('with everyone agreeing on one label, kappa and alpha are undefined and say why', () => {
  const r = computeAgreementReport(dataset([coding('o1', 'B', 'a'), coding('o1', 'B', 'b'), coding('o2', 'B', 'a'), coding('o2', 'B', 'b')], ['a', 'b']));
  const row = r.observation.behaviours[0]!;
  assert.equal(row.percentAgreement.value, 1);
  assert.equal(row.alpha.value, null);
  assert.match(row.alpha.reason!, /no variation/);
  assert.equal(row.cohen[0]!.kappa.value, null);
  assert.match(row.cohen[0]!.kappa.reason!, /same single label/);
});

test('charts: bands, bars with printed values, undefined written out, heat-map cells by band', () => {
  const r = computeAgreementReport(dataset([coding('o1', 'B', 'a'), coding('o1', 'B', 'b'), coding('o2', 'B', 'a'), coding('o3', 'B', 'b'), coding('o4', 'B', 'c')]));
  const chart = coefficientBarChart([r.observation.overall, ...r.observation.behaviours]);
  assert.deepEqual(chart.lines.map((l) => l.label), ['0.4', '0.6', '0.8']);
  assert.deepEqual(chart.bands.map((b) => b.word), ['moderate', 'substantial', 'almost perfect']);
  assert.ok(chart.bars.every((b) => /^[ακ] (-?\d\.\d\d|undefined)$/.test(b.text)), chart.bars.map((b) => b.text).join());
  const heat = kappaHeatMap(r.coders, r.observation.overall.cohen);
  assert.equal(heat.cells.length, 9);
  assert.equal(heat.cells.filter((c) => c.cls === 'heat-self').length, 3);
  assert.ok(heat.cells.every((c) => c.cls === 'heat-self' || /^n=\d+$/.test(c.sub)));
  assert.equal(kappaBand(0.7).word, 'substantial');
  assert.equal(kappaBand(-0.1).band, 'neg');
  assert.equal(kappaBand(null).word, 'undefined');
});

test('classifiers at span level: their spans join people\'s units; a unit only they marked is a false positive', () => {
  const machine = (o: string, start: number, end: number): CodingRow => ({ ...coding(o, 'B', 'x', start, end), coderId: null, classifierId: 'K' });
  const data = {
    ...dataset([
      coding('o1', 'B', 'a', 0, 10), coding('o1', 'B', 'b', 2, 10), machine('o1', 3, 9), machine('o1', 40, 50),
      coding('o2', 'B', 'a'), coding('o2', 'B', 'b'), machine('o2', 0, 5),
      coding('o3', 'B', 'a', 0, 10), coding('o3', 'B', 'b'),
    ], ['a', 'b']),
    classifiers: [{ id: 'K', name: 'Judge', kind: 'llm_judge' }],
  };
  const r = computeAgreementReport(data);
  const k = r.classifiers[0]!;
  const row = k.span.behaviours[0]!;
  // o1 0-10: people P P, judge P (TP); o1 40-50: people A A, judge P (FP); o2 0-5: A A, judge P (FP); o3: a tie, and
  // the judge did not rate o3: left out.
  assert.deepEqual([row.truePositive, row.falsePositive, row.falseNegative, row.trueNegative], [1, 2, 0, 0]);
  assert.equal(row.precision.value, 1 / 3);
  assert.equal(row.recall.value, 1);
  assert.equal(row.unit, 'span');
  // People's span-level figures do not see the judge's spans: o1 0-10 and o3 0-10 only.
  assert.equal(r.span.behaviours[0]!.units, 2);
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { makeActors, signedInWeb, WebClient, type TestUser } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The analyses over a small corpus with known answers, through real HTTP: pages (HTML with tables and chart data),
 * CSV and JSON, the API, as anonymous visitors (public observations only) and signed-in people; withdrawn codings,
 * deleted observations and duplicate codes by a second coder never count; bad filters come back beside the fields.
 */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let researcherWeb: WebClient;
const anonWeb = () => new WebClient(app.url);
const transcript = 'User: Is my essay good?\nAssistant: What a brilliant essay, truly.\nUser: Cite a source.\nAssistant: See Smith (2019), page 4.';

async function code(user: TestUser, observationId: string, codeName: string, messageId?: string, start = 0): Promise<string> {
  const body = messageId ? { code: codeName, span: { messageId, partIndex: 0, start, end: start + 4 } } : { code: codeName };
  const res = await user.api.post(`/observations/${observationId}/codings`, body);
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  researcherWeb = await signedInWeb(app, actors.researcher);
  const r = actors.researcher;
  const obs = (o: Record<string, unknown>) => submitObservation(r, { transcript, ...o });
  // O1, O2 (public, openai gpt-4o v1 and v2): REF-PART then SYC-FLATTER (then FAB-CITE in O1), by position.
  const o1 = await obs({ visibility: 'public', provider: 'openai', model: 'gpt-4o', modelVersion: 'v1', observedAt: '2025-03-04' });
  await code(r, o1.id, 'FAB-CITE', 'm4', 0);
  await code(r, o1.id, 'SYC-FLATTER', 'm2', 10);
  await code(r, o1.id, 'REF-PART', 'm2', 0);
  await code(r, o1.id, 'REF-FULL'); // the whole observation: no place in the transcript
  const o2 = await obs({ visibility: 'public', provider: 'openai', model: 'gpt-4o', modelVersion: 'v2', observedAt: '2025-04-10' });
  await code(r, o2.id, 'SYC-FLATTER', 'm4', 2);
  await code(r, o2.id, 'REF-PART', 'm2', 3);
  // O3 (members only, anthropic): the same two, REF-PART also by the admin at the same place (counts once).
  const o3 = await obs({ visibility: 'members', provider: 'anthropic', model: 'claude', modelVersion: 'v1', observedAt: '2025-04-11' });
  await code(r, o3.id, 'REF-PART', 'm2', 0);
  await code(actors.admin, o3.id, 'REF-PART', 'm2', 0);
  await code(r, o3.id, 'SYC-FLATTER', 'm2', 8);
  // O4: its only coding withdrawn; O5: deleted. Neither counts anywhere.
  const o4 = await obs({ visibility: 'public', provider: 'anthropic', model: 'claude', modelVersion: 'v1' });
  const withdrawn = await code(r, o4.id, 'REF-PART', 'm2', 0);
  assert.equal((await r.api.delete(`/codings/${withdrawn}`)).status, 200);
  const o5 = await obs({ visibility: 'public', provider: 'openai', model: 'gpt-4o', modelVersion: 'v1' });
  await code(r, o5.id, 'DEG-LOOP', 'm2', 0);
  assert.equal((await r.api.delete(`/observations/${o5.id}`)).status, 204);
  // A provider name a spreadsheet would run as a formula.
  const o6 = await obs({ visibility: 'public', provider: '=HYPERLINK("x")', model: 'm, "quoted"', observedAt: '2024-01-02' });
  await code(r, o6.id, 'FAB-FACT', 'm4', 0);
  // A filed live session on O3 (its log written as the live log writes it): one observer runs DEG-LOOP for 15 of
  // the session's 60 minutes, and a second state whose start was undone.
  const [version] = rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT ethogram_version_id::text AS id FROM codings WHERE observation_id = ${o1.id}::uuid LIMIT 1`));
  const [session] = rowsOf<{ id: string }>(
    await app.deps.db.execute(sql`INSERT INTO live_sessions (title, ethogram_version_id, target, status, created_by, created_at, ended_at, observation_id)
      VALUES ('Budget', ${version!.id}::uuid, '{}'::jsonb, 'filed', ${r.id}::uuid, '2025-05-01T10:00:00Z', '2025-05-01T11:00:00Z', ${o3.id}::uuid) RETURNING id::text AS id`),
  );
  await app.deps.db.execute(sql`INSERT INTO live_participants (session_id, user_id, role) VALUES (${session!.id}::uuid, ${actors.admin.id}::uuid, 'observer')`);
  const ev = (seq: number, id: string, type: string, payload: object, at: string) =>
    app.deps.db.execute(sql`INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at)
      VALUES (${session!.id}::uuid, ${seq}, ${id}, ${type}, ${actors.admin.id}::uuid, ${JSON.stringify(payload)}::jsonb, ${at}::timestamptz)`);
  const state = (kind: string, behaviourCode: string, startEventId: string | null) => ({ kind, behaviourCode, behaviourId: '', at: { turn: 0, offset: 0 }, span: null, modifiers: {}, rationale: '', startEventId, autoClosed: false });
  await ev(1, 'a', 'code', state('state_start', 'DEG-LOOP', null), '2025-05-01T10:10:00Z');
  await ev(2, 'b', 'code', state('state_stop', 'DEG-LOOP', 'a'), '2025-05-01T10:25:00Z');
  await ev(3, 'c', 'code', state('state_start', 'PER-DRIFT', null), '2025-05-01T10:30:00Z');
  await ev(4, 'd', 'undo', { target: 'c' }, '2025-05-01T10:31:00Z');
});
after(() => app.close());

const cellOf = (cells: any[], group: string, behaviour: string) => cells.find((c) => c.group === group && c.behaviour === behaviour);

describe('frequencies with effort', () => {
  test('signed in: every visible observation counts once per behaviour; effort is observations coded at all', async () => {
    const res = await actors.contributor.api.get('/analyses/frequencies?by=model');
    assert.equal(res.status, 200, res.text);
    const groups = Object.fromEntries(res.body.groups.map((g: any) => [g.group, g.effort]));
    assert.deepEqual(groups, { 'openai / gpt-4o': 2, 'anthropic / claude': 1, '=HYPERLINK("x") / m, "quoted"': 1 });
    assert.equal(cellOf(res.body.cells, 'openai / gpt-4o', 'REF-PART').count, 2);
    assert.equal(cellOf(res.body.cells, 'openai / gpt-4o', 'FAB-CITE').rate, 0.5);
    assert.equal(cellOf(res.body.cells, 'anthropic / claude', 'REF-PART').count, 1, 'two coders, one observation');
    assert.equal(cellOf(res.body.cells, 'anthropic / claude', 'FAB-CITE').count, 0, 'absence over real effort is a zero');
    assert.ok(!res.body.cells.some((c: any) => c.behaviour === 'DEG-LOOP'), 'the deleted observation does not count');
  });

  test('anonymous: public observations only; month grouping and date filters', async () => {
    const res = await actors.anon.get('/analyses/frequencies?by=month&from=2025-01-01');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.groups, [{ group: '2025-03', effort: 1 }, { group: '2025-04', effort: 1 }], 'O3 (members) and O6 (2024) left out');
  });

  test('the page shows the numbers in tables and the chart data beside its figure, for anyone', async () => {
    const res = await anonWeb().get('/analyses/frequencies?by=version');
    assert.equal(res.status, 200);
    assert.match(res.text, /<th scope="row">openai \/ gpt-4o \/ v1<\/th><td class="num">1<\/td>/);
    const data = /<script type="application\/json" data-chart-data>(.*?)<\/script>/s.exec(res.text);
    assert.ok(data, 'the chart data is embedded');
    assert.equal(JSON.parse(data[1]!).type, 'frequencies');
    assert.match(res.text, /data-enhance="chart"/);
    for (const tag of res.text.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /src="\/assets\/app\.js"|type="application\/json"/, `no inline code: ${tag}`);
    assert.match(res.text, /Over public observations only/);
  });
});

describe('co-occurrence, transitions and comparison', () => {
  test('co-occurrence counts observations showing both, with Jaccard and lift', async () => {
    const res = await actors.researcher.api.get('/analyses/co-occurrence');
    const cell = res.body.cells.find((c: any) => c.a === 'REF-PART' && c.b === 'SYC-FLATTER');
    assert.equal(cell.both, 3);
    assert.equal(cell.jaccard, 1);
    assert.equal(res.body.observations, 4);
    assert.equal(cell.lift, (3 * 4) / (3 * 3));
  });

  test('transitions follow transcript order; whole-observation codings are left out and said to be', async () => {
    const res = await actors.researcher.api.get('/analyses/transitions?permutations=200&seed=3');
    assert.equal(res.status, 200, res.text);
    const count = (from: string, to: string) => res.body.cells.find((c: any) => c.from === from && c.to === to)?.count ?? 0;
    assert.equal(count('REF-PART', 'SYC-FLATTER'), 3);
    assert.equal(count('SYC-FLATTER', 'FAB-CITE'), 1);
    assert.equal(count('FAB-CITE', 'SYC-FLATTER'), 0);
    assert.equal(count('REF-PART', 'REF-PART'), 0, 'the second coder\'s identical code counts once');
    assert.equal(res.body.leftOut.wholeObservation, 1);
    assert.equal(res.body.settings.permutations, 200);
    const again = await actors.researcher.api.get('/analyses/transitions?permutations=200&seed=3');
    assert.deepEqual(again.body.cells, res.body.cells, 'the same seed gives the same p-values');
    const page = await researcherWeb.get('/analyses/transitions?permutations=200');
    assert.match(page.text, /codings of whole observations/);
    assert.match(page.text, /Permutation test/);
  });

  test('cross-model comparison: one behaviour per model version, with effort and a Wilson interval', async () => {
    const res = await actors.researcher.api.get('/analyses/compare?behaviour=ref-part');
    assert.equal(res.status, 200, res.text);
    const rows = res.body.rows.filter((r: any) => r.count > 0).map((r: any) => `${r.provider} ${r.model} ${r.modelVersion} ${r.count}/${r.effort}`);
    assert.deepEqual(rows, ['anthropic claude v1 1/1', 'openai gpt-4o v1 1/1', 'openai gpt-4o v2 1/1']);
    const row = res.body.rows.find((r: any) => r.modelVersion === 'v2');
    assert.ok(row.low > 0.2 && row.low < 0.25 && row.high === 1, `Wilson interval of 1/1: ${row.low}..${row.high}`);
    assert.equal((await actors.researcher.api.get('/analyses/compare?behaviour=NOPE')).status, 404);
  });

  test('time budget: share of the observer\'s session time per state, undone states left out', async () => {
    const signedIn = await actors.researcher.api.get('/analyses/time-budget');
    assert.equal(signedIn.body.sessions, 1);
    assert.deepEqual(signedIn.body.rows.map((r: any) => [r.behaviour, r.seconds, r.share]), [['DEG-LOOP', 900, 0.25]]);
    const anonymous = await actors.anon.get('/analyses/time-budget');
    assert.equal(anonymous.body.sessions, 0, 'the session was filed as a members-only observation');
  });
});

describe('formats and bad input', () => {
  test('CSV is RFC 4180 and safe against formula injection; JSON and ?format= agree', async () => {
    const res = await anonWeb().get('/analyses/frequencies.csv?by=model');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="?frequencies-llm-starter-v\d+\.csv"?/);
    const lines = res.text.split('\r\n');
    assert.equal(lines[0], 'grouping,group,behaviour_code,observations_showing,effort,rate,rate_low_95,rate_high_95');
    assert.ok(lines.some((l) => l.startsWith(`model,"'=HYPERLINK(""x"") / m, ""quoted""",FAB-FACT,1,1,1,`)), lines.join('\n'));
    const json = await anonWeb().get('/analyses/frequencies?by=model&format=json');
    assert.equal(json.status, 200);
    assert.equal(JSON.parse(json.text).cells.length, lines.length - 2);
    const api = await actors.anon.get('/analyses/frequencies.csv?by=model');
    assert.equal(api.text, res.text);
  });

  test('bad filters: field errors beside the fields on the page, 422 JSON for data; unknown names are 404', async () => {
    const page = await anonWeb().get('/analyses/frequencies?from=2024-13-01&by=weekday&to=2020-01-01');
    assert.equal(page.status, 422);
    assert.match(page.text, /id="analysis-from" name="from" type="date" value="2024-13-01" aria-describedby="analysis-from-error" aria-invalid="true"/);
    assert.match(page.text, /id="analysis-from-error">The start date is not a real date\./);
    assert.match(page.text, /id="analysis-by-error">Group by provider, model, version or month\./);
    const json = await anonWeb().get('/analyses/transitions.json?permutations=5');
    assert.equal(json.status, 422);
    assert.equal(JSON.parse(json.text).error.details.fields.permutations, 'At least 100 permutations.');
    assert.equal((await actors.anon.get('/analyses/transitions?alpha=abc')).status, 422);
    assert.equal((await anonWeb().get('/analyses/nonsense')).status, 404);
    assert.equal((await actors.anon.get('/analyses/frequencies?version=00000000-0000-4000-8000-000000000000')).status, 404);
    const unchosen = await anonWeb().get('/analyses/compare');
    assert.equal(unchosen.status, 200);
    assert.match(unchosen.text, /Choose a behaviour to compare it across models\./);
    assert.match(unchosen.text, /<option value="REF-PART">REF-PART · /);
    const index = await anonWeb().get('/analyses');
    for (const name of ['frequencies', 'co-occurrence', 'transitions', 'compare', 'time-budget']) assert.match(index.text, new RegExp(`href="/analyses/${name}"`));
  });

  test('the charts bundle is served apart from the main bundle, which stays free of Plot', async () => {
    const charts = await anonWeb().get('/assets/charts.js');
    assert.equal(charts.status, 200);
    assert.match(charts.headers.get('content-type') ?? '', /javascript/);
    assert.match(charts.text, /renderChart/);
    const main = await anonWeb().get('/assets/app.js');
    assert.ok(main.text.length < charts.text.length / 1.4, `main ${main.text.length} bytes, charts ${charts.text.length}`);
    assert.ok(!main.text.includes('plot-'), 'Plot is not in the main bundle');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { Actor } from '../accounts/actor.ts';
import { anonymous } from '../accounts/actor.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { seededRandom } from '../observations/classify/offline/folds.ts';
import { makeActors } from '../test/support/clients.ts';
import { submitObservation } from '../test/support/observation-factories.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import type { AnalysisFilters } from './analysis-filters.ts';
import { resolveScope, type AnalysisScope } from './analysis-scope.ts';
import { rebuildCodeSets } from './rebuild-code-sets.ts';
import { loadCoOccurrenceCounts } from './co-occurrence.queries.ts';
import { loadComparison } from './compare.queries.ts';
import { loadFrequencyCounts } from './frequencies.queries.ts';
import { loadTransitionSequences } from './transitions.queries.ts';

/**
 * The kept code sets (observation_code_sets, maintained by triggers) must say exactly what the codings say. A
 * corpus is written and then changed through the real commands and through plain SQL (every write path fires the
 * triggers): codings added, withdrawn, proposed, rejected, recoded onto another behaviour; observations edited,
 * hidden, deleted and restored, transcripts re-keyed. Then every analysis is computed from the kept sets and from
 * the codings themselves (the path a blind coder takes), for several filters, and must agree to the last count.
 */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
const CODES = ['REF-PART', 'REF-FULL', 'SYC-FLATTER', 'FAB-CITE', 'FAB-FACT', 'DEG-LOOP', 'LANG-SWITCH', 'PER-BREAK'];
const transcript = 'User: Is my essay good?\nAssistant: What a brilliant essay, truly wonderful.\nUser: Cite a source.\nAssistant: See Smith (2019), page 4, and more.';
const observationIds: string[] = [];
const codingIds: string[] = [];
const codedBy = new Map<string, 'admin' | 'researcher'>();

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  const random = seededRandom(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const known = new Set(rowsOf<{ code: string }>(await app.deps.db.execute(sql`SELECT code FROM behaviours`)).map((r) => r.code));
  const codes = CODES.filter((c) => known.has(c));
  assert.ok(codes.length >= 6, 'the starter ethogram has the codes this test uses');
  for (let i = 0; i < 24; i++) {
    const o = await submitObservation(actors.researcher, {
      transcript,
      visibility: i % 3 === 0 ? 'members' : 'public',
      provider: pick(['openai', 'anthropic', 'local']),
      model: pick(['a', 'b']),
      modelVersion: i % 5 === 0 ? undefined : pick(['v1', 'v2']),
      observedAt: `2025-0${1 + (i % 6)}-1${i % 9}`,
    });
    observationIds.push(o.id);
    for (let k = 0, n = Math.floor(random() * 6); k < n; k++) {
      const whole = random() < 0.15;
      const start = Math.floor(random() * 3) * 4;
      const body = whole ? { code: pick(codes) } : { code: pick(codes), span: { messageId: pick(['m2', 'm4']), partIndex: 0, start, end: start + 4 } };
      const coder = random() < 0.3 ? 'admin' : 'researcher';
      const res = await actors[coder].api.post(`/observations/${o.id}/codings`, body);
      assert.equal(res.status, 201, res.text);
      codingIds.push(res.body.id);
      codedBy.set(res.body.id, coder);
    }
  }
  // The observations changed below are ones with codings, so each change has something to move.
  const coded = new Set(rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT DISTINCT observation_id::text AS id FROM codings`)).map((r) => r.id));
  observationIds.sort((a, b) => Number(coded.has(b)) - Number(coded.has(a)));
  assert.ok(coded.size >= 12, `${coded.size} observations coded`);
  // Changes through the product: withdrawals, an edit of the provider, a deletion, a deletion undone.
  for (const id of codingIds.filter((_, i) => i % 9 === 4)) assert.equal((await actors[codedBy.get(id)!].api.delete(`/codings/${id}`)).status, 200);
  const edit = await actors.researcher.api.patch(`/observations/${observationIds[1]}`, { provider: 'renamed-provider', visibility: 'members' });
  assert.equal(edit.status, 200, edit.text);
  assert.equal((await actors.researcher.api.delete(`/observations/${observationIds[2]}`)).status, 204);
  assert.equal((await actors.researcher.api.delete(`/observations/${observationIds[3]}`)).status, 204);
  assert.equal((await actors.admin.api.post(`/observations/${observationIds[3]}/restore`, {})).status, 200);
  // Changes in plain SQL (reviews, recoding, a re-keyed transcript whose ids are not mN, a coding on a message that
  // is gone), which the triggers see as well.
  const db = app.deps.db;
  await db.execute(sql`UPDATE codings SET status = 'proposed' WHERE id = ANY(${pgArray(codingIds.filter((_, i) => i % 5 === 1))}::uuid[])`);
  await db.execute(sql`UPDATE codings SET status = 'rejected' WHERE id = ANY(${pgArray(codingIds.filter((_, i) => i % 7 === 3))}::uuid[])`);
  await db.execute(sql`UPDATE codings SET behaviour_id = (SELECT id FROM behaviours WHERE code = ${codes[0]} AND version_id = codings.ethogram_version_id)
    WHERE id = ANY(${pgArray(codingIds.filter((_, i) => i % 11 === 6))}::uuid[])`);
  const rekeyed = observationIds[5]!;
  await db.execute(sql`UPDATE observations SET transcript = jsonb_set(transcript, '{messages}', (
      SELECT jsonb_agg(jsonb_set(m, '{id}', to_jsonb('turn-' || (10 - ord))) ORDER BY ord) FROM jsonb_array_elements(transcript->'messages') WITH ORDINALITY e(m, ord)))
    WHERE id = ${rekeyed}::uuid`);
  await db.execute(sql`UPDATE codings SET message_id = 'turn-' || (10 - substr(message_id, 2)::int) WHERE observation_id = ${rekeyed}::uuid AND message_id IS NOT NULL`);
  await db.execute(sql`UPDATE codings SET message_id = 'gone' WHERE id = (SELECT id FROM codings WHERE observation_id = ${observationIds[6]}::uuid AND message_id IS NOT NULL LIMIT 1)`);
});
after(() => app.close());

const user = (): Actor => {
  const r = actors.researcher;
  return { kind: 'user', id: r.id, role: r.role, email: r.email, displayName: r.displayName, via: 'token' };
};

async function bothSources(actor: Actor, filters: Partial<AnalysisFilters>): Promise<[AnalysisScope, AnalysisScope]> {
  const scope = await resolveScope({ db: app.deps.db, actor, now: () => new Date() }, { codings: 'accepted', ...filters } as AnalysisFilters);
  assert.ok(scope);
  assert.equal(scope.source, 'code-sets', 'without blind assignments, the analyses read the kept sets');
  return [scope, { ...scope, source: 'codings' }];
}

/** A uuid[] literal (drizzle would spread a JS array into a row). */
const pgArray = (ids: string[]) => `{${ids.join(',')}}`;

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('the kept code sets agree with the codings', () => {
  const cases: Array<[string, () => Actor, Partial<AnalysisFilters>, number]> = [
    ['signed in, accepted codings', user, {}, 8],
    ['signed in, accepted or proposed', user, { codings: 'accepted_or_proposed' }, 8],
    ['anonymous (public observations)', () => anonymous, { codings: 'accepted_or_proposed' }, 4],
    ['one provider, a date range', user, { provider: 'openai', from: '2025-02-01', to: '2025-05-31' }, 1],
  ];
  for (const [name, actor, filters, atLeast] of cases) {
    test(name, async () => {
      const [kept, live] = await bothSources(actor(), filters);
      const db = app.deps.db;
      for (const by of ['provider', 'model', 'version', 'month'] as const) {
        const [a, b] = [await loadFrequencyCounts(db, kept, by), await loadFrequencyCounts(db, live, by)];
        assert.deepEqual(a.groups, b.groups, `effort by ${by}`);
        assert.deepEqual([...a.counts].sort(byJson), [...b.counts].sort(byJson), `counts by ${by}`);
      }
      const [ca, cb] = [await loadCoOccurrenceCounts(db, kept), await loadCoOccurrenceCounts(db, live)];
      assert.equal(ca.observations, cb.observations);
      assert.deepEqual([...ca.showing].sort(byJson), [...cb.showing].sort(byJson));
      assert.deepEqual([...ca.pairs].sort(byJson), [...cb.pairs].sort(byJson));
      for (const behaviour of kept.behaviours.slice(0, 12)) assert.deepEqual(await loadComparison(db, kept, behaviour.id), await loadComparison(db, live, behaviour.id));
      const [ta, tb] = [await loadTransitionSequences(db, kept), await loadTransitionSequences(db, live)];
      assert.deepEqual({ ...ta, sequences: { codes: [...ta.sequences.codes], starts: [...ta.sequences.starts] } }, { ...tb, sequences: { codes: [...tb.sequences.codes], starts: [...tb.sequences.starts] } });
      // Not vacuous: the corpus gives the analyses something to count.
      assert.ok(ca.observations >= atLeast, `${ca.observations} observations coded in scope`);
      if (atLeast >= 4) assert.ok(ca.pairs.length > 0 && ta.sequences.starts.length > 2, JSON.stringify({ pairs: ca.pairs.length, sequences: ta.sequences.starts.length - 1 }));
    });
  }

  test('what the changes did is what the sets hold', async () => {
    const rows = async (id: string) => rowsOf<{ provider: string; deleted: boolean; shown: number[]; unplaced: number; sequence: number[] }>(
      await app.deps.db.execute(sql`SELECT provider, deleted_at IS NOT NULL AS deleted, shown, shown_unplaced AS unplaced, shown_sequence AS sequence FROM observation_code_sets WHERE observation_id = ${id}::uuid`));
    const edited = await rows(observationIds[1]!);
    assert.ok(edited.length > 0);
    assert.equal(edited[0]!.provider, 'renamed-provider');
    assert.deepEqual((await rows(observationIds[2]!)).map((r) => r.deleted), [true]);
    assert.deepEqual((await rows(observationIds[3]!)).map((r) => r.deleted), [false]);
    const [gone] = await rows(observationIds[6]!);
    assert.ok(gone && gone.unplaced >= 1, 'the coding on a message that is gone is counted as unplaced');
    // Every kept row matches a fresh count of its observation's live codings.
    const mismatched = rowsOf<{ observation_id: string }>(await app.deps.db.execute(sql`
      SELECT s.observation_id FROM observation_code_sets s
      WHERE cardinality(s.shown) <> (SELECT count(DISTINCT c.behaviour_id) FROM codings c WHERE c.observation_id = s.observation_id
        AND c.ethogram_version_id = s.ethogram_version_id AND c.withdrawn_at IS NULL AND c.status IN ('accepted', 'proposed'))
      UNION ALL
      SELECT c.observation_id FROM codings c WHERE c.withdrawn_at IS NULL AND c.status IN ('accepted', 'proposed')
        AND NOT EXISTS (SELECT 1 FROM observation_code_sets s WHERE s.observation_id = c.observation_id AND s.ethogram_version_id = c.ethogram_version_id)`));
    assert.deepEqual(mismatched, []);
    // Withdrawing every coding of an observation removes its row.
    const target = observationIds[7]!;
    await app.deps.db.execute(sql`UPDATE codings SET withdrawn_at = now() WHERE observation_id = ${target}::uuid`);
    assert.deepEqual(await rows(target), []);
  });

  test('a rebuild finds nothing to correct, then repairs rows damaged behind the triggers\' back', async () => {
    const db = app.deps.db;
    const first = await rebuildCodeSets(db);
    assert.equal(first.corrected, 0, 'the triggers kept every row right');
    assert.ok(first.rows > 10);
    const [stale, lost] = [observationIds[9]!, observationIds[10]!];
    await db.execute(sql`UPDATE observation_code_sets SET shown = '{}', accepted_sequence = '{1,1}' WHERE observation_id = ${stale}::uuid`);
    await db.execute(sql`DELETE FROM observation_code_sets WHERE observation_id = ${lost}::uuid`);
    await db.execute(sql`INSERT INTO observation_code_sets SELECT ${observationIds[20]!}::uuid, ethogram_version_id, provider, model, model_version, observed_at, visibility,
      deleted_at, accepted, shown, accepted_sequence, shown_sequence, accepted_whole, shown_whole, accepted_unplaced, shown_unplaced
      FROM observation_code_sets WHERE observation_id = ${stale}::uuid ON CONFLICT DO NOTHING`);
    const leftover = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM codings WHERE observation_id = ${observationIds[20]!}::uuid AND withdrawn_at IS NULL AND status IN ('accepted', 'proposed')`))[0]!.n === 0;
    const second = await rebuildCodeSets(db);
    assert.equal(second.rows, first.rows);
    assert.equal(second.corrected, leftover ? 3 : 2, 'one stale, one missing (and one left over when that observation has no live codings)');
    assert.equal((await rebuildCodeSets(db)).corrected, 0);
  });

  test('two transactions coding one observation at once: the set holds both codes', async (t) => {
    if (app.database.kind === 'pglite') return t.skip('PGlite has one connection, so writers cannot overlap');
    const db = app.deps.db;
    const target = observationIds[8]!;
    await db.execute(sql`UPDATE codings SET withdrawn_at = now() WHERE observation_id = ${target}::uuid`);
    const insert = (tx: typeof db, code: string) => tx.execute(sql`INSERT INTO codings (observation_id, ethogram_version_id, behaviour_id, coder_id, method, status)
      SELECT ${target}::uuid, b.version_id, b.id, (SELECT id FROM users ORDER BY created_at LIMIT 1), 'manual', 'accepted'
      FROM behaviours b JOIN ethogram_versions v ON v.id = b.version_id WHERE v.status = 'published' AND b.code = ${code}`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
    const first = inTransaction(db, async (tx) => {
      await insert(tx, 'REF-PART');
      firstInserted();
      await held; // keeps its transaction open while the second writes
    });
    await inserted;
    let secondDone = false;
    const second = inTransaction(db, (tx) => insert(tx, 'SYC-FLATTER')).then(() => (secondDone = true));
    await sleep(150);
    assert.equal(secondDone, false, 'the second writer waits for the first to commit before counting');
    release();
    await Promise.all([first, second]);
    const [row] = rowsOf<{ codes: string[] }>(await db.execute(sql`SELECT array(SELECT b.code FROM unnest(s.shown) u(x)
        JOIN (SELECT code, (row_number() OVER (ORDER BY position, code) - 1) AS i FROM behaviours WHERE version_id = s.ethogram_version_id) b ON b.i = u.x ORDER BY 1) AS codes
      FROM observation_code_sets s WHERE s.observation_id = ${target}::uuid`));
    assert.deepEqual(row?.codes, ['REF-PART', 'SYC-FLATTER']);
  });
});

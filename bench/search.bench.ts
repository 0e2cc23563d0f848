import pg from 'pg';
import { runLoad } from './lib/load.ts';
import { percentile, type Figure } from './lib/stats.ts';
import { pickWord, rng, TAGS } from './lib/transcripts.ts';

/**
 * Grows the app's database to `target` observations by copying the ingested ones with shifted dates and new
 * titles (same realistic text statistics), and codes about a third of them with starter behaviours. A copy keeps
 * its source's near-duplicate fingerprint (it depends on the transcript alone, which the copy shares), so the
 * server is not fingerprinting the copies in the background while the searches are timed.
 */
export async function seedObservations(dbUrl: string, target: number): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  // The ingested rows are indexed and fingerprinted by the running server in the background: let it finish, so
  // the copies inherit settled rows (up to two minutes; the wait is printed).
  const waitStart = performance.now();
  for (let pending = -1; pending !== 0 && performance.now() - waitStart < 120_000; ) {
    pending = (await c.query<{ n: number }>('select count(*)::int as n from observations where search_pending or (minhash is null and deleted_at is null)')).rows[0]!.n;
    if (pending) await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`  waited ${((performance.now() - waitStart) / 1000).toFixed(1)} s for the server to index and fingerprint the ingested rows`);
  const n = (await c.query<{ n: number }>('select count(*)::int as n from observations')).rows[0]!.n;
  if (n < target) {
    const copies = Math.ceil((target - n) / n);
    await c.query(
      `insert into observations (title, surprise, status, visibility, provider, model, model_version, provenance, observed_at,
         submitted_by, raw_payload, raw_sha256, transcript, evidence_links, tags, search, minhash, minhash_bands)
       select o.title || ' (copy ' || g || ')', o.surprise, o.status, o.visibility, o.provider, o.model, o.model_version, o.provenance,
         o.observed_at - make_interval(days => g * 37), o.submitted_by, o.raw_payload, o.raw_sha256, o.transcript, o.evidence_links, o.tags, o.search, o.minhash, o.minhash_bands
       from (select * from observations limit $1) o cross join generate_series(1, $2) g
       limit $3`,
      [n, copies, target - n],
    );
  }
  await c.query(
    `insert into codings (observation_id, ethogram_version_id, behaviour_id, coder_id, method, status)
     select o.id, b.version_id, b.id, o.submitted_by, 'manual', 'accepted'
     from (select id, submitted_by, row_number() over () as rn from observations) o
     join (select id, version_id, row_number() over (order by code) - 1 as idx, count(*) over () as cnt from behaviours) b
       on b.idx = (o.rn % b.cnt)
     where o.rn % 3 = 0`,
  );
  // A settled corpus, as a running instance's is: vacuumed (visibility map set, GIN pending lists merged) rather
  // than with autovacuum working through 80,000 fresh rows while the searches are timed.
  await c.query('vacuum analyze');
  const total = (await c.query<{ total: number }>('select count(*)::int as total from observations')).rows[0]!.total;
  await c.end();
  return total;
}

/** A realistic mix of list-page requests: default listing, searches, filters, combinations, deep pages. */
function queryMix(rand: () => number, codes: string[], categories: string[]): string[] {
  const q = () => encodeURIComponent(pickWord(rand));
  const list: string[] = [];
  for (let i = 0; i < 40; i++) {
    list.push(
      '/api/v1/observations',
      `/api/v1/observations?q=${q()}`,
      `/api/v1/observations?q=${q()}+${q()}`,
      `/api/v1/observations?q=${q()}&sort=relevance`,
      `/api/v1/observations?provider=anthropic`,
      `/api/v1/observations?model=gpt-4o&tag=${TAGS[i % TAGS.length]}`,
      `/api/v1/observations?behaviour=${codes[i % codes.length]}`,
      `/api/v1/observations?category=${categories[i % categories.length]}`,
      `/api/v1/observations?status=submitted&from=2026-03-01&to=2026-06-30`,
      `/api/v1/observations?q=${q()}&provider=openai&tag=${TAGS[(i * 3) % TAGS.length]}`,
      `/api/v1/observations?page=${1 + (i % 50)}`,
      `/api/v1/observations?sort=observed_asc&provider=local`,
    );
  }
  return list;
}

export async function searchBench(appUrl: string, token: string, dbUrl: string): Promise<Figure[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const codes = (await c.query<{ code: string }>('select distinct code from behaviours order by code')).rows.map((r) => r.code);
  const categories = (await c.query<{ category: string }>('select distinct category from behaviours order by category')).rows.map((r) => r.category);
  await c.end();
  const paths = queryMix(rng(7), codes, categories);
  const auth = { authorization: `Bearer ${token}` };
  // Warm up caches and plans, then measure.
  await runLoad({ url: appUrl, concurrency: 4, total: 100, request: (i) => ({ method: 'GET', path: paths[i % paths.length]!, headers: auth }), expectStatus: 200 });
  const search = await runLoad({ url: appUrl, concurrency: 4, total: paths.length, request: (i) => ({ method: 'GET', path: paths[i]!, headers: auth }), expectStatus: 200 });
  const floor = await runLoad({ url: appUrl, concurrency: 4, total: paths.length, request: () => ({ method: 'GET', path: '/api/v1/me', headers: auth }), expectStatus: 200 });
  // One person searching alone (the latency a researcher sees), beside the four-client figure above.
  const serial = await runLoad({ url: appUrl, concurrency: 1, total: paths.length, request: (i) => ({ method: 'GET', path: paths[i]!, headers: auth }), expectStatus: 200 });
  const serialFloor = await runLoad({ url: appUrl, concurrency: 1, total: paths.length, request: () => ({ method: 'GET', path: '/api/v1/me', headers: auth }), expectStatus: 200 });
  if (search.errors) console.log(`  search errors: ${search.errors} (statuses ${JSON.stringify(search.statuses)})`);
  // Per-shape p95, so a slow query shape is visible rather than averaged away.
  const byShape = new Map<string, number[]>();
  paths.forEach((p, i) => {
    const shape = p.replace(/=[^&]+/g, '=').replace('/api/v1/observations', '') || '(default)';
    const arr = byShape.get(shape) ?? [];
    arr.push(search.latenciesMs[i]!);
    byShape.set(shape, arr);
  });
  for (const [shape, values] of byShape) console.log(`    ${shape.padEnd(40)} p95 ${percentile(values, 95).toFixed(1)} ms`);
  const p95 = percentile(search.latenciesMs, 95);
  return [
    { name: 'search/list p95 (100k, 4 clients)', value: p95, unit: 'ms', baselineName: 'GET /api/v1/me p95', baseline: percentile(floor.latenciesMs, 95), target: '< 50 ms', pass: p95 < 50 && search.errors === 0 },
    { name: 'search/list p95 (100k, 1 client)', value: percentile(serial.latenciesMs, 95), unit: 'ms', baselineName: 'GET /api/v1/me p95', baseline: percentile(serialFloor.latenciesMs, 95), target: '< 50 ms', pass: percentile(serial.latenciesMs, 95) < 50 && serial.errors === 0 },
  ];
}

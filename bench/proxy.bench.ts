import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { chatRequest } from '../test/support/model-streams.ts';
import { startAppProcess } from './lib/app-process.ts';
import { runLoad } from './lib/load.ts';
import type { PgServer } from './lib/postgres-server.ts';
import { percentile, type Figure } from './lib/stats.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = 32;
const body = JSON.stringify({ ...chatRequest, stream: false });
const streamBody = JSON.stringify({ ...chatRequest, stream: true });

/**
 * Recording-proxy overhead against a local upstream, measured in the same run as direct calls to that upstream:
 * latency added (p50, p99) one call at a time, proxied non-streaming throughput with 32 clients, and time to first
 * byte added on streams. The proxy is the real server (`menagerie serve`) recording every call in its field log;
 * the upstream is a small model API in its own process. At the end every proxied call must be in the field log.
 */
export async function proxyBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  const upstream = await startUpstream();
  const dataDir = server ? null : mkdtempSync(path.join(tmpdir(), 'menagerie-bench-proxy-'));
  const dbUrl = server ? await server.createDatabase('menagerie_bench_proxy') : null;
  const app = await startAppProcess({
    ...(dbUrl ? { DATABASE_URL: dbUrl } : { MENAGERIE_DATA_DIR: dataDir! }),
    MENAGERIE_PROXY_UPSTREAMS: `bench=openai:${upstream.url}`,
  });
  let stopped = false;
  const stopApp = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  console.log(`  proxy on ${dbUrl ? 'PostgreSQL' : 'PGlite'}; upstream ${upstream.url}`);
  let proxiedCalls = 0;
  const headers = { authorization: 'Bearer sk-bench-provider-key', 'x-menagerie-token': app.token };
  const direct = { url: upstream.url, prefix: '' };
  const proxied = { url: app.url, prefix: '/proxy/bench' };
  try {
    const call = (target: typeof direct, total: number, concurrency: number, payload = body) => {
      if (target === proxied) proxiedCalls += total;
      return runLoad({ url: target.url, concurrency, total, expectStatus: 200, request: () => ({ method: 'POST', path: `${target.prefix}/v1/chat/completions`, body: payload, headers }) });
    };
    await call(direct, 500, 8);
    await call(proxied, 500, 8);

    // Latency one call at a time, direct and proxied interleaved in rounds so drift hits both alike.
    const rounds = quick ? 5 : 20;
    const directMs: number[] = [];
    const proxiedMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      directMs.push(...(await call(direct, 100, 1)).latenciesMs);
      proxiedMs.push(...(await call(proxied, 100, 1)).latenciesMs);
    }
    const p50Added = percentile(proxiedMs, 50) - percentile(directMs, 50);
    const p99Added = percentile(proxiedMs, 99) - percentile(directMs, 99);
    console.log(`  one at a time: direct p50 ${percentile(directMs, 50).toFixed(2)} ms, p99 ${percentile(directMs, 99).toFixed(2)} ms; proxied p50 ${percentile(proxiedMs, 50).toFixed(2)} ms, p99 ${percentile(proxiedMs, 99).toFixed(2)} ms`);

    // Throughput with 32 clients.
    const total = quick ? 3000 : 10000;
    const directLoad = await call(direct, total, CONCURRENCY);
    const proxiedLoad = await call(proxied, total, CONCURRENCY);
    if (proxiedLoad.errors) console.log(`  proxied errors: ${proxiedLoad.errors} (statuses ${JSON.stringify(proxiedLoad.statuses)})`);
    console.log(`  ${CONCURRENCY} clients: direct ${directLoad.rate.toFixed(0)}/s, proxied ${proxiedLoad.rate.toFixed(0)}/s (p50 ${percentile(proxiedLoad.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(proxiedLoad.latenciesMs, 99).toFixed(1)} ms)`);

    // Streams: time to the first body byte, one at a time, interleaved, once the field log has caught up with
    // the burst (a steady state, not the backlog of 10,000 calls being written).
    await capturesCaughtUp(dbUrl, proxiedCalls);
    const directTtfb: number[] = [];
    const proxiedTtfb: number[] = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let r = 0; r < (quick ? 3 : 10); r++) {
      for (let i = 0; i < 50; i++) directTtfb.push(await firstByteMs(agent, direct.url, `${direct.prefix}/v1/chat/completions`, headers));
      for (let i = 0; i < 50; i++) proxiedTtfb.push(await firstByteMs(agent, proxied.url, `${proxied.prefix}/v1/chat/completions`, headers));
      proxiedCalls += 50;
    }
    agent.destroy();
    const ttfbAdded = percentile(proxiedTtfb, 50) - percentile(directTtfb, 50);
    console.log(`  streams: first byte direct p50 ${percentile(directTtfb, 50).toFixed(2)} ms, proxied p50 ${percentile(proxiedTtfb, 50).toFixed(2)} ms, p99 ${percentile(proxiedTtfb, 99).toFixed(2)} ms`);

    const written = await capturesWritten(stopApp, dbUrl, dataDir, proxiedCalls);
    console.log(`  field log: ${written.count} of ${proxiedCalls} proxied calls recorded, the last ${written.lagSeconds.toFixed(1)} s after the run`);
    return [
      { name: 'proxy latency added, p50', value: p50Added, unit: 'ms', baselineName: 'direct p50', baseline: percentile(directMs, 50), target: '< 2 ms', pass: p50Added < 2 },
      { name: 'proxy latency added, p99', value: p99Added, unit: 'ms', baselineName: 'direct p99', baseline: percentile(directMs, 99), target: '< 10 ms', pass: p99Added < 10 },
      { name: 'proxied requests/s (non-streaming)', value: proxiedLoad.rate, unit: 'req/s', baselineName: 'direct', baseline: directLoad.rate, target: '>= 1000/s', pass: proxiedLoad.rate >= 1000 && proxiedLoad.errors === 0 },
      { name: 'stream time to first byte added, p50', value: ttfbAdded, unit: 'ms', baselineName: 'direct p50', baseline: percentile(directTtfb, 50), target: '< 5 ms', pass: ttfbAdded < 5 },
      { name: 'proxied calls in the field log', value: written.count, unit: 'captures', baselineName: 'calls made', baseline: proxiedCalls, target: 'all of them', pass: written.count === proxiedCalls },
    ];
  } finally {
    await stopApp().catch(() => {});
    upstream.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Milliseconds from sending a streaming request to the first byte of the response body. */
function firstByteMs(agent: http.Agent, base: string, urlPath: string, headers: Record<string, string>): Promise<number> {
  const target = new URL(base);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let first = NaN;
    const req = http.request(
      { host: target.hostname, port: target.port, method: 'POST', path: urlPath, agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(streamBody) } },
      (res) => {
        res.once('data', () => (first = Number(process.hrtime.bigint() - started) / 1e6));
        res.on('data', () => {});
        res.on('end', () => resolve(first));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(streamBody);
  });
}

/** Waits until the field log has written `expected` captures (PostgreSQL), or a few seconds (PGlite, not readable while the server runs). */
async function capturesCaughtUp(dbUrl: string | null, expected: number): Promise<void> {
  if (!dbUrl) {
    await new Promise((r) => setTimeout(r, 5000));
    return;
  }
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000 && (await client.query<{ n: number }>('select count(*)::int as n from captures')).rows[0]!.n < expected) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.end();
}

/**
 * Waits until the field log holds every proxied call (PostgreSQL: counted while the server runs; PGlite: the
 * server is stopped first, which writes what is queued, then its data folder is read).
 */
async function capturesWritten(stopApp: () => Promise<void>, dbUrl: string | null, dataDir: string | null, expected: number): Promise<{ count: number; lagSeconds: number }> {
  const t0 = Date.now();
  if (dbUrl) {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    let count = 0;
    while (Date.now() - t0 < 120_000) {
      count = (await client.query<{ n: number }>('select count(*)::int as n from captures')).rows[0]!.n;
      if (count >= expected) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.end();
    return { count, lagSeconds: (Date.now() - t0) / 1000 };
  }
  await stopApp();
  const lagSeconds = (Date.now() - t0) / 1000;
  const db = await PGlite.create(path.join(dataDir!, 'pglite'));
  const count = (await db.query<{ n: number }>('select count(*)::int as n from captures')).rows[0]!.n;
  await db.close();
  return { count, lagSeconds };
}

async function startUpstream(): Promise<{ url: string; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/lib/model-upstream.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the bench upstream exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

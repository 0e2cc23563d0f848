import { spawn, fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import { sha256Hex } from '../core/sha256.ts';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { defaultPublishedVersion } from '../ethograms/behaviour.queries.ts';
import type { LiveEventView, StoredPayloads, TokenPreview } from '../live/live-events.ts';
import { testConfig } from '../server/config.ts';
import { openDatabase, type Database } from '../server/db/client.ts';
import { createLogger } from '../server/logger.ts';
import { prepareInstance } from '../server/prepare-instance.ts';
import { freePort } from './lib/app-process.ts';
import { promptText, replyTokens, tokensIn } from './lib/live-tokens.ts';
import type { PgServer } from './lib/postgres-server.ts';
import { allProcessesCpu, cpuSeconds, machineCpu, othersCpu, rssMb } from './lib/process-stats.ts';
import { percentile, type Figure } from './lib/stats.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/menagerie.js');
const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOOP_RESOLUTION_MS = 10;
/** How late this process's event loop ran (p99, ms): the histogram's intervals less the timer's own 10 ms. */
const loopLagP99 = (h: IntervalHistogram) => h.percentile(99) / 1e6 - LOOP_RESOLUTION_MS;

/** The issue's load (quick: a smoke test of the benchmark itself). */
interface Shape {
  bigObservers: number;
  smallSessions: number;
  smallSize: number; // participants per small session: a driver and the rest observers
  tokens: number;
  delayMs: number;
  bigTurns: number;
  smallTurns: (i: number) => number;
  baselineMs: number;
}
const FULL: Shape = { bigObservers: 50, smallSessions: 20, smallSize: 5, tokens: 200, delayMs: 15, bigTurns: 5, smallTurns: (i) => 3 + (i % 3), baselineMs: 6000 };
const QUICK: Shape = { bigObservers: 10, smallSessions: 4, smallSize: 3, tokens: 100, delayMs: 15, bigTurns: 2, smallTurns: () => 2, baselineMs: 2000 };
/** Observers press a hotkey every 1 to 3 s (jittered), and ask `whoami` (the no-op baseline) as often. */
const CODE_EVERY_MS: [number, number] = [1000, 3000];
const ACK_TIMEOUT_MS = 15_000;

/**
 * Issue 6's live-session targets, on loopback: one session with 50 observers plus 20 concurrent sessions of 5
 * (a driver and four observers), every driver prompting at once, several turns each, against a local
 * OpenAI-compatible model streaming 200-token answers at 15 ms a token (its own process). The server is the real
 * `menagerie serve` in its own process (so its RSS is its own); the 151 clients are real socket.io clients in this
 * process. Figures, for PostgreSQL and then PGlite:
 * - token latency, from the moment the model wrote each token to when every client in the session first had it:
 *   its preview (`live:preview`, sent as the server reads it from the model), or its stored event for a client no
 *   preview reached; also, reported, the stored event's own latency (model -> server -> log -> broadcast; every
 *   token of a batched event counts, the early ones waited longest), and from the stored event's `at` to receipt
 *   (`at` is the log batch's stamp, taken when its transaction has begun, so this includes the batch's statements
 *   and commit; ms resolution); beside the latency of a bare socket.io server broadcasting token-sized events to
 *   the same rooms at the same pace (no database). Every preview is checked against the stored answer;
 * - code acknowledgement round trip (emit -> ack) of observers coding at a human pace during the streams,
 *   beside a `whoami` round trip on the same sockets at the same pace;
 * - events lost and duplicated, checked against the stored log afterwards (gapless seqs, every acknowledged code
 *   stored once, every client received every stored event once, every client's reassembled answer equals the
 *   stored answer and the model's reply);
 * - server RSS after the run, beside its RSS with every client joined before the run.
 * Printed beside them, to see where the time goes: the split model -> batch stamp -> client, the broadcast's
 * fan-out, tokens per stored event (how far the writer fell behind), one batch's transaction replayed on the idle
 * database, each sender's ack against its own code's broadcast (the realtime adapter's wait), CPU by process
 * (and a warning when other processes shared the machine), what PostgreSQL's backends in a transaction were
 * waiting on, and this process's event-loop lag (the measuring clients' own delay). A diagnostic run without the
 * PostgreSQL realtime adapter follows (full runs only). BENCH_LIVE_CPU_PROFILE=<dir> has the server write a V8
 * CPU profile there. BENCH_LIVE_TARGETS=postgres,pglite,diagnostic runs only those (all by default).
 */
export async function liveBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  const shape = quick ? QUICK : FULL;
  const participants = 1 + shape.bigObservers + shape.smallSessions * shape.smallSize;
  console.log(
    `  1 session of ${1 + shape.bigObservers} (driver + ${shape.bigObservers} observers) and ${shape.smallSessions} of ${shape.smallSize}: ${participants} socket.io clients; ` +
      `model ${shape.tokens} tokens at ${shape.delayMs} ms a token`,
  );
  const model = await startModelProcess(shape);
  const figures: Figure[] = [];
  try {
    const baseline = await bareSocketBaseline(shape);
    console.log(
      `  bare socket.io broadcast (no database): p50 ${baseline.p50.toFixed(2)} ms, p99 ${baseline.p99.toFixed(2)} ms over ${baseline.samples} receipts; ` +
        `no-op ack round trip p99 ${baseline.noopP99.toFixed(2)} ms; bench clients' event-loop lag p99 ${baseline.loopP99.toFixed(1)} ms`,
    );
    // The shipped configurations give the figures. A diagnostic run follows on PostgreSQL without the realtime
    // adapter (MENAGERIE_REALTIME_ADAPTER=none, one process), so the adapter's share of the latency shows (not quick).
    const targets: Array<{ name: string; sessionBase: number; figures: boolean; env?: Record<string, string>; open: () => Promise<TargetDb> }> = [];
    const onPostgres = (dbName: string) => async (): Promise<TargetDb> => {
      const url = await server!.createDatabase(dbName);
      return { env: { DATABASE_URL: url }, open: () => openDatabase({ databaseUrl: url, poolSize: 4 }), cleanup: () => {} };
    };
    if (server) targets.push({ name: 'PostgreSQL', sessionBase: 1000, figures: true, open: onPostgres('menagerie_bench_live') });
    targets.push({
      name: 'PGlite',
      sessionBase: 2000,
      figures: true,
      open: async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-live-'));
        return { env: { MENAGERIE_DATA_DIR: dir }, open: () => openDatabase({ dataDir: dir, pgliteInProcess: true }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
      },
    });
    if (server && !quick) {
      targets.push({ name: 'PostgreSQL, no realtime adapter (diagnostic, not in the figures)', sessionBase: 3000, figures: false, env: { MENAGERIE_REALTIME_ADAPTER: 'none' }, open: onPostgres('menagerie_bench_live_noadapter') });
    }
    // BENCH_LIVE_TARGETS=postgres,pglite,diagnostic: only these runs (comparing a change without the others' minutes).
    const only = process.env.BENCH_LIVE_TARGETS?.split(',').map((s) => s.trim().toLowerCase());
    const kindOf = (t: { name: string; figures: boolean }) => (!t.figures ? 'diagnostic' : t.name === 'PGlite' ? 'pglite' : 'postgres');
    for (const target of only ? targets.filter((t) => only.includes(kindOf(t))) : targets) {
      const db = await target.open();
      try {
        const got = await runTarget(target.name, target.sessionBase, { ...db, env: { ...db.env, ...target.env } }, shape, model, baseline);
        if (target.figures) figures.push(...got);
      } finally {
        db.cleanup();
      }
    }
  } finally {
    model.stop();
  }
  return figures;
}

interface TargetDb { env: Record<string, string>; open: () => Promise<Database>; cleanup: () => void }
interface Baseline { p50: number; p99: number; samples: number; noopP99: number; loopP99: number }
type Ack = { ok?: true; seq?: number | null; duplicate?: boolean; error?: { id: string; message: string } };
type JoinAck = { ok?: true; session?: { lastSeq: number }; events?: LiveEventView[]; error?: { id: string; message: string } };

// ---------------------------------------------------------------------------------------------------------------
// The model process and the clock

interface ModelProcess { url: string; offsetMs: number; pid: number; writes(): Promise<Map<string, number>>; stop(): void }

/** The fake model in its own process (bench/lib/live-model-process.ts), with its clock's offset from ours. */
async function startModelProcess(shape: Shape): Promise<ModelProcess> {
  const child = fork(path.join(import.meta.dirname, 'lib/live-model-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, LIVE_MODEL_TOKENS: String(shape.tokens), LIVE_MODEL_DELAY_MS: String(shape.delayMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url } = (await nextMessage(child, (m) => 'url' in m)) as { url: string };
  const offsetMs = await clockOffset(child);
  return {
    url,
    offsetMs,
    pid: child.pid!,
    async writes() {
      const reply = nextMessage(child, (m) => 'writes' in m);
      child.send('writes');
      return new Map((await reply as { writes: Array<[string, number]> }).writes);
    },
    stop: () => child.send('stop'),
  };
}

function nextMessage(child: ChildProcess, match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && match(m as Record<string, unknown>)) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Record<string, unknown>);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`a bench child process exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * The child's wall clock minus ours (both `performance.timeOrigin + performance.now()`): from the IPC round trip
 * with the smallest delay out of 30, the child's reading taken as at its middle. Usually well under 0.1 ms.
 */
async function clockOffset(child: ChildProcess): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 30; i++) {
    const t0 = wallMs();
    const reply = nextMessage(child, (m) => m.clock === t0);
    child.send({ clock: t0 });
    const { at } = (await reply) as { at: number };
    const t1 = wallMs();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: (at as number) - (t0 + t1) / 2 };
  }
  return best.offset;
}

// ---------------------------------------------------------------------------------------------------------------
// Baseline: a bare socket.io broadcast to the same rooms at the same pace

async function bareSocketBaseline(shape: Shape): Promise<Baseline> {
  const child = fork(path.join(import.meta.dirname, 'lib/socket-echo-process.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const sockets: Socket[] = [];
  try {
    const { port } = (await nextMessage(child, (m) => 'port' in m)) as { port: number };
    const offset = await clockOffset(child);
    const rooms = [{ name: 'big', size: 1 + shape.bigObservers }, ...Array.from({ length: shape.smallSessions }, (_, i) => ({ name: `small-${i}`, size: shape.smallSize }))];
    const latencies: number[] = [];
    for (const room of rooms) {
      for (let i = 0; i < room.size; i++) {
        const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
        socket.on('tick', (e: { sentAt: number }) => latencies.push(wallMs() - (e.sentAt - offset)));
        sockets.push(socket);
        await new Promise<void>((resolve) => socket.emit('join', room.name, () => resolve()));
      }
    }
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const done = nextMessage(child, (m) => 'done' in m);
    child.send({ start: { rooms: rooms.map((r) => r.name), intervalMs: shape.delayMs, durationMs: shape.baselineMs } });
    // No-op round trips from the observers' sockets at the coders' pace, alongside.
    const noop: number[] = [];
    let ticking = true;
    const pingers = sockets.map(async (socket) => {
      while (ticking) {
        await sleep(jitter(CODE_EVERY_MS) / 4);
        if (!ticking) break;
        const t0 = wallMs();
        await new Promise<void>((resolve) => socket.emit('noop', () => resolve()));
        noop.push(wallMs() - t0);
      }
    });
    await done;
    ticking = false;
    await Promise.all(pingers);
    await sleep(200);
    loop.disable();
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length, noopP99: percentile(noop, 99), loopP99: loopLagP99(loop) };
  } finally {
    for (const s of sockets) s.disconnect();
    child.send('stop');
  }
}

function jitter([min, max]: [number, number]): number {
  return min + Math.random() * (max - min);
}

// ---------------------------------------------------------------------------------------------------------------
// The real thing

interface Person { id: string; email: string; token: string; name: string }
interface SessionPlan { index: number; globalIndex: number; turns: number; driver: Person; observers: Person[]; id?: string; big: boolean }

/** Receipt of a broadcast event, on our clock. */
interface Receipt { event: LiveEventView; at: number }

class LiveClient {
  readonly person: Person;
  readonly session: SessionPlan;
  readonly role: 'driver' | 'observer';
  readonly socket: Socket;
  readonly received: Receipt[] = [];
  /** Model text previewed before it was stored (`live:preview`), on our clock. */
  readonly previews: Array<{ preview: TokenPreview; at: number }> = [];
  joined: LiveEventView[] = [];
  lastTurn = -1;
  readonly answerLength = new Map<number, number>();
  private readonly waiters = new Set<() => void>();

  constructor(url: string, person: Person, session: SessionPlan, role: 'driver' | 'observer') {
    this.person = person;
    this.session = session;
    this.role = role;
    this.socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: person.token } });
    this.socket.on('live:event', (event: LiveEventView) => {
      this.received.push({ event, at: wallMs() });
      this.note(event);
      for (const w of this.waiters) w();
    });
    // What a person would see: previews extend the answer as it streams (contiguous here: every client joined
    // before the first prompt), so an observer codes at the end of the text previewed so far, as the page does.
    this.socket.on('live:preview', (preview: TokenPreview) => {
      this.previews.push({ preview, at: wallMs() });
      if (preview.offset <= (this.answerLength.get(preview.turn) ?? 0)) this.answerLength.set(preview.turn, Math.max(this.answerLength.get(preview.turn) ?? 0, preview.offset + preview.text.length));
    });
  }

  private note(event: LiveEventView) {
    if (event.type === 'prompt') this.lastTurn = Math.max(this.lastTurn, (event.payload as StoredPayloads['prompt']).turn);
    if (event.type === 'tokens') {
      const p = event.payload as StoredPayloads['tokens'];
      this.answerLength.set(p.turn, Math.max(this.answerLength.get(p.turn) ?? 0, p.offset + p.text.length));
    }
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', (e) => reject(new Error(`socket refused: ${e.message}`)));
    });
  }

  async join(): Promise<void> {
    const ack = await new Promise<JoinAck>((resolve) => this.socket.timeout(ACK_TIMEOUT_MS).emit('live:join', { sessionId: this.session.id, sinceSeq: 0 }, (err: Error | null, a: JoinAck) => resolve(err ? { error: { id: 'timeout', message: err.message } } : a)));
    if (!ack.ok) throw new Error(`join refused: ${JSON.stringify(ack.error)}`);
    this.joined = ack.events ?? [];
    for (const e of this.joined) this.note(e);
  }

  /** Emits a client event; resolves with the ack and the round trip in ms (NaN on timeout). */
  send(event: Record<string, unknown>): Promise<{ ack: Ack; ms: number }> {
    const t0 = wallMs();
    return new Promise((resolve) =>
      this.socket.timeout(ACK_TIMEOUT_MS).emit('live:event', { sessionId: this.session.id, ...event }, (err: Error | null, ack: Ack) =>
        resolve(err ? { ack: { error: { id: 'timeout', message: err.message } }, ms: NaN } : { ack, ms: wallMs() - t0 }),
      ),
    );
  }

  whoami(): Promise<number> {
    const t0 = wallMs();
    return new Promise((resolve) => this.socket.timeout(ACK_TIMEOUT_MS).emit('whoami', (err: Error | null) => resolve(err ? NaN : wallMs() - t0)));
  }

  /** Resolves when a received event satisfies the predicate (checked on each arrival), or rejects after `ms`. */
  waitFor(predicate: (e: LiveEventView) => boolean, what: string, ms = 120_000): Promise<void> {
    if (this.received.some((r) => predicate(r.event))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let seen = this.received.length;
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.person.name}: timed out waiting for ${what}`));
      }, ms);
      const check = () => {
        for (; seen < this.received.length; seen++) {
          if (predicate(this.received[seen]!.event)) {
            clearTimeout(timer);
            this.waiters.delete(check);
            return resolve();
          }
        }
      };
      this.waiters.add(check);
    });
  }
}

interface CodeSent { id: string; session: SessionPlan; sender: LiveClient; ok: boolean; seq: number | null; ms: number; ackAt: number; error?: string }

async function runTarget(name: string, sessionBase: number, target: TargetDb, shape: Shape, model: ModelProcess, baseline: Baseline): Promise<Figure[]> {
  const t0 = wallMs();
  const { plans, versionId } = await seed(target, shape, sessionBase);
  const seededAt = wallMs();
  const app = await startServer(target.env);
  const startedAt = wallMs();
  const clients: LiveClient[] = [];
  let stopped = false;
  try {
    const idleRss = rssMb(app.pid);
    const api = (token: string, method: string, urlPath: string, body?: unknown) =>
      fetch(`${app.url}/api/v1${urlPath}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (res) => {
        const json = (await res.json()) as Record<string, unknown>;
        if (res.status >= 300) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(json)}`);
        return json;
      });
    for (const plan of plans) {
      const created = await api(plan.driver.token, 'POST', '/live-sessions', {
        title: `Bench session ${plan.globalIndex}`,
        ethogramVersionId: versionId,
        target: { provider: 'openai-compatible', model: 'bench-model', baseUrl: model.url, systemPrompt: 'Be brief.', maxTokens: 4096 },
        blind: false,
      });
      plan.id = created.id as string;
      for (const o of plan.observers) await api(plan.driver.token, 'POST', `/live-sessions/${plan.id}/participants`, { email: o.email, role: 'observer' });
    }
    for (const plan of plans) {
      clients.push(new LiveClient(app.url, plan.driver, plan, 'driver'));
      for (const o of plan.observers) clients.push(new LiveClient(app.url, o, plan, 'observer'));
    }
    const createdAt = wallMs();
    await Promise.all(clients.map((c) => c.connected()));
    await Promise.all(clients.map((c) => c.join()));
    const joinedAt = wallMs();
    await sleep(1000); // let the joins' presence broadcasts settle
    const joinedRss = rssMb(app.pid);
    const setupS = (wallMs() - t0) / 1000;

    // The run: every driver prompts at once; observers code (and ask whoami) at a human pace while it streams.
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    let peakRss = joinedRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(app.pid))), 200);
    const cpu0 = { server: cpuSeconds(app.pid), model: cpuSeconds(model.pid), bench: process.cpuUsage(), machine: machineCpu(), database: await databaseCpu(target), all: allProcessesCpu() };
    const commits0 = await pgCommits(target);
    const activity = await sampleActivity(target);
    const runStart = wallMs();
    const codes: CodeSent[] = [];
    const whoami: number[] = [];
    const failures: string[] = [];
    await Promise.all(
      plans.map((plan) => runSession(plan, clients.filter((c) => c.session === plan), codes, whoami).catch((error: unknown) => void failures.push(`${plan.globalIndex}: ${error instanceof Error ? error.message : String(error)}`))),
    );
    const runS = (wallMs() - runStart) / 1000;
    clearInterval(sampler);
    loop.disable();
    const afterRss = rssMb(app.pid);
    const machine = machineCpu();
    const all1 = allProcessesCpu();
    const bench = process.cpuUsage(cpu0.bench);
    const cpu1 = { server: cpuSeconds(app.pid), model: cpuSeconds(model.pid) };
    const database1 = await databaseCpu(target);
    const commits1 = await pgCommits(target);
    const waits = await activity.stop();
    const commits = commits1 === null || commits0 === null ? null : commits1.commits - commits0.commits;
    const walSyncs = commits1 === null || commits0 === null ? null : commits1.walSyncs - commits0.walSyncs;
    const cpu = {
      server: (cpu1.server - cpu0.server) / runS,
      model: (cpu1.model - cpu0.model) / runS,
      bench: (bench.user + bench.system) / 1e6 / runS,
      machine: (machine.busy - cpu0.machine.busy) / runS,
      database: database1 && cpu0.database ? [...database1].reduce((sum, [pid, t]) => sum + t - (cpu0.database!.get(pid) ?? 0), 0) / runS : 0,
    };
    const rest = cpu.machine - cpu.server - cpu.bench - cpu.model - cpu.database;
    // Ours: this process, the server, the model, and the PostgreSQL cluster (its backends' parent, the postmaster, and all it forks).
    const postmasters = [...(database1?.keys() ?? [])].map((pid) => all1.get(pid)?.ppid ?? 0).filter((pid) => pid > 1);
    const others = othersCpu(cpu0.all, all1, new Set([process.pid, app.pid, model.pid, ...(database1?.keys() ?? []), ...postmasters]), runS);
    const writes = await model.writes();

    for (const c of clients) c.socket.disconnect();
    await app.stop();
    stopped = true;

    const check = await checkLog(target, plans, clients, codes, writes, model.offsetMs, shape);
    const { tokenE2e, tokenStoredE2e, previewed, tokenFromStamp, toBatch, tokensPerEvent, fanOut } = check.latency;
    const okCodes = codes.filter((c) => c.ok);
    const codeMs = okCodes.map((c) => c.ms);
    const bigClients = new Set(clients.filter((c) => c.session.big));
    const e2eBig = check.latency.perClient.filter((x) => bigClients.has(x.client)).flatMap((x) => x.e2e);
    const e2eSmall = check.latency.perClient.filter((x) => !bigClients.has(x.client)).flatMap((x) => x.e2e);
    const refused = codes.filter((c) => !c.ok);
    // The sender gets its ack straight from the handler, and its own code again through the room broadcast (the
    // adapter's path): the gap between the two is what the broadcast path adds after the commit.
    const ackToEcho = okCodes.map((c) => {
      const echo = c.sender.received.find((r) => r.event.id === c.id);
      return echo ? echo.at - c.ackAt : NaN;
    });

    const secs = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
    console.log(
      `  ${name}: set up in ${setupS.toFixed(1)} s (database and users ${secs(t0, seededAt)} s, server start ${secs(seededAt, startedAt)} s, ` +
        `${plans.length} sessions made over the API ${secs(startedAt, createdAt)} s, ${clients.length} clients connected and joined ${secs(createdAt, joinedAt)} s); run ${runS.toFixed(1)} s`,
    );
    if (failures.length) console.log(`  ${name}: SESSION FAILURES: ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? ` (+${failures.length - 5})` : ''}`);
    console.log(
      `    tokens model->client: p50 ${percentile(tokenE2e, 50).toFixed(1)} ms, p95 ${percentile(tokenE2e, 95).toFixed(1)} ms, p99 ${percentile(tokenE2e, 99).toFixed(1)} ms, max ${maxOf(tokenE2e).toFixed(1)} ms over ${tokenE2e.length} token receipts ` +
        `(big session p99 ${percentile(e2eBig, 99).toFixed(1)} ms, sessions of ${shape.smallSize} p99 ${percentile(e2eSmall, 99).toFixed(1)} ms); ` +
        `${previewed} of them previewed first; stored event model->client p50 ${percentile(tokenStoredE2e, 50).toFixed(1)} ms, p99 ${percentile(tokenStoredE2e, 99).toFixed(1)} ms`,
    );
    console.log(
      `    where it goes: model write -> log batch stamp p50 ${percentile(toBatch, 50).toFixed(1)} ms, p99 ${percentile(toBatch, 99).toFixed(1)} ms; ` +
        `batch stamp -> client p50 ${percentile(tokenFromStamp, 50).toFixed(1)} ms, p99 ${percentile(tokenFromStamp, 99).toFixed(1)} ms ` +
        `(of which fan-out, first client -> each client, p50 ${percentile(fanOut, 50).toFixed(1)} ms, p99 ${percentile(fanOut, 99).toFixed(1)} ms); ` +
        `tokens per stored tokens event mean ${mean(tokensPerEvent).toFixed(2)}, p99 ${percentile(tokensPerEvent, 99)}; ` +
        `one batch's transaction alone on the idle database p50 ${percentile(check.probe, 50).toFixed(1)} ms, p99 ${percentile(check.probe, 99).toFixed(1)} ms`,
    );
    console.log(
      `    codes: ${okCodes.length} acknowledged, ack p50 ${percentile(codeMs, 50).toFixed(1)} ms, p99 ${percentile(codeMs, 99).toFixed(1)} ms, max ${maxOf(codeMs).toFixed(1)} ms; ` +
        `whoami p50 ${percentile(whoami, 50).toFixed(1)} ms, p99 ${percentile(whoami, 99).toFixed(1)} ms (${whoami.length}); ` +
        `sender's ack -> its own code's broadcast p50 ${percentile(ackToEcho, 50).toFixed(1)} ms, p99 ${percentile(ackToEcho, 99).toFixed(1)} ms` +
        (refused.length ? `; ${refused.length} refused or timed out (${[...new Set(refused.map((r) => r.error))].slice(0, 3).join(' | ')})` : ''),
    );
    console.log(
      `    log: ${check.storedEvents} events in ${plans.length} sessions, ${check.deliveries} deliveries checked; lost ${check.lost.total} (${describe(check.lost)}), ` +
        `duplicated ${check.duplicated.total} (${describe(check.duplicated)}); ` +
        `${check.outOfOrder} of ${clients.reduce((n, c) => n + c.received.length, 0)} live deliveries arrived after a later seq`,
    );
    console.log(`    server RSS: idle ${idleRss.toFixed(0)} MB, clients joined ${joinedRss.toFixed(0)} MB, peak ${peakRss.toFixed(0)} MB, after ${afterRss.toFixed(0)} MB`);
    console.log(
      `    CPU (cores busy, of ${availableParallelism()}): machine ${cpu.machine.toFixed(2)}, server ${cpu.server.toFixed(2)}${cpu0.database ? `, PostgreSQL ${cpu.database.toFixed(2)}` : ' (PGlite inside)'}, ` +
        `bench clients ${cpu.bench.toFixed(2)}, model ${cpu.model.toFixed(2)}, other processes ${others.cores.toFixed(2)}${others.cores > 0.05 ? ` (${others.top})` : ''}, ` +
        `unattributed (kernel, processes that exited) ${(rest - others.cores).toFixed(2)}` +
        (others.cores > 0.1 || rest - others.cores > 0.3 ? ' - NOT ALONE on the machine: these figures are disturbed' : '') +
        '; ' +
        (commits === null ? '' : `${(commits / runS).toFixed(0)} PostgreSQL commits/s, ${(walSyncs! / runS).toFixed(0)} WAL syncs/s (the cluster's); `) +
        `bench clients' event-loop lag p99 ${loopLagP99(loop).toFixed(1)} ms`,
    );
    if (waits) console.log(`    PostgreSQL backends inside a transaction, sampled every 50 ms: ${waits}`);

    const figures: Figure[] = [
      { name: `token latency model->every client, p99 (${name})`, value: percentile(tokenE2e, 99), unit: 'ms', baselineName: 'bare socket.io broadcast p99', baseline: baseline.p99, target: '< 50 ms', pass: percentile(tokenE2e, 99) < 50 },
      { name: `token stored event model->every client, p99 (${name})`, value: percentile(tokenStoredE2e, 99), unit: 'ms', baselineName: 'bare socket.io broadcast p99', baseline: baseline.p99, target: 'reported', pass: true },
      { name: `token latency log stamp->every client, p99 (${name})`, value: percentile(tokenFromStamp, 99), unit: 'ms', baselineName: 'bare socket.io broadcast p99', baseline: baseline.p99, target: '< 50 ms', pass: percentile(tokenFromStamp, 99) < 50 },
      { name: `code ack round trip, p99 (${name})`, value: percentile(codeMs, 99), unit: 'ms', baselineName: 'whoami round trip p99', baseline: percentile(whoami, 99), target: '< 100 ms', pass: percentile(codeMs, 99) < 100 && refused.length === 0 },
      { name: `events lost (${name})`, value: check.lost.total, unit: 'events', baselineName: 'deliveries checked', baseline: check.deliveries, target: '0', pass: check.lost.total === 0 && failures.length === 0 },
      { name: `events duplicated (${name})`, value: check.duplicated.total, unit: 'events', baselineName: 'deliveries checked', baseline: check.deliveries, target: '0', pass: check.duplicated.total === 0 },
      { name: `server RSS after the run (${name})`, value: afterRss, unit: 'MB', baselineName: 'before (clients joined)', baseline: joinedRss, target: 'reported', pass: true },
    ];
    return figures;
  } finally {
    for (const c of clients) c.socket.disconnect();
    if (!stopped) await app.stop().catch(() => {});
  }
}

const maxOf = (xs: number[]) => xs.reduce((a, b) => (Number.isFinite(b) && b > a ? b : a), -Infinity);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const describe = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/**
 * One session: the driver prompts turn after turn (a short pause between), its observers code at the current
 * position (the end of the answer as they have received it) every 1-3 s and ask `whoami` as often; after the
 * last answer the observers stop, their codes are all acknowledged, and the driver ends the session, which every
 * client must see.
 */
async function runSession(plan: SessionPlan, clients: LiveClient[], codes: CodeSent[], whoami: number[]): Promise<void> {
  const driver = clients.find((c) => c.role === 'driver')!;
  const observers = clients.filter((c) => c.role === 'observer');
  let coding = true;
  const coders = observers.flatMap((o) => [
    (async () => {
      while (coding) {
        await sleep(jitter(CODE_EVERY_MS));
        if (!coding || o.lastTurn < 0) continue;
        const at = { turn: o.lastTurn, offset: o.answerLength.get(o.lastTurn) ?? 0 };
        const state = Math.random() < 0.2;
        const id = randomUUID();
        const event = { id, type: 'code', behaviourCode: state ? 'LNG-SWITCH' : 'SYC-CAVE', at, ...(Math.random() < 0.5 ? { modifiers: { severity: 'mild' } } : {}) };
        const { ack, ms } = await o.send(event);
        codes.push({ id, session: plan, sender: o, ok: ack.ok === true && !ack.duplicate, seq: ack.seq ?? null, ms, ackAt: wallMs(), ...(ack.ok ? {} : { error: `${ack.error?.id}: ${ack.error?.message}` }) });
      }
    })(),
    (async () => {
      while (coding) {
        await sleep(jitter(CODE_EVERY_MS));
        if (coding) whoami.push(await o.whoami());
      }
    })(),
  ]);
  try {
    for (let turn = 0; turn < plan.turns; turn++) {
      const { ack } = await driver.send({ id: randomUUID(), type: 'prompt', text: promptText(plan.globalIndex, turn) });
      if (!ack.ok) throw new Error(`prompt ${turn} refused: ${JSON.stringify(ack.error)}`);
      await driver.waitFor((e) => e.type === 'answer.ended' && (e.payload as StoredPayloads['answer.ended']).turn === turn, `answer ${turn}`);
      if (turn < plan.turns - 1) await sleep(300 + Math.random() * 500);
    }
  } finally {
    coding = false;
    await Promise.all(coders);
  }
  const { ack } = await driver.send({ id: randomUUID(), type: 'end' });
  if (!ack.ok) throw new Error(`end refused: ${JSON.stringify(ack.error)}`);
  await Promise.all(clients.map((c) => c.waitFor((e) => e.type === 'session.ended', 'the session to end', 30_000)));
}

// ---------------------------------------------------------------------------------------------------------------
// Setup: users and tokens in the database before the server starts (a PGlite folder has one owner at a time)

async function seed(target: TargetDb, shape: Shape, sessionBase: number): Promise<{ plans: SessionPlan[]; versionId: string }> {
  const database = await target.open();
  try {
    await database.migrate();
    const now = () => new Date();
    await prepareInstance({ db: database.db, config: testConfig({ loadStarter: true }), logger: createLogger('error'), now });
    const versionId = (await defaultPublishedVersion(database.db))!.id;
    const sizes = [1 + shape.bigObservers, ...Array.from({ length: shape.smallSessions }, () => shape.smallSize)];
    const names = sizes.flatMap((size, s) => Array.from({ length: size }, (_, i) => (i === 0 ? `driver-${s}` : `observer-${s}-${i}`)));
    const values = names.map((n) => sql`(${`${n}@bench.example.org`}, ${n}, 'x', 'researcher')`);
    const rows = rowsOf<{ id: string; email: string; display_name: string }>(
      await database.db.execute(sql`INSERT INTO users (email, display_name, password_hash, role) VALUES ${sql.join(values, sql`, `)} RETURNING id, email, display_name`),
    );
    // API tokens as createApiToken makes them (only the hash is stored), in one statement: 151 transactions on
    // PGlite would take seconds of setup.
    const people = new Map<string, Person>();
    for (const r of rows) people.set(r.display_name, { id: r.id, email: r.email, name: r.display_name, token: `mng_${randomBytes(24).toString('base64url')}` });
    const tokenRows = [...people.values()].map((p) => sql`(${p.id}::uuid, 'bench', ${sha256Hex(p.token)}, ${p.token.slice(0, 10)})`);
    await database.db.execute(sql`INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ${sql.join(tokenRows, sql`, `)}`);
    const plans = sizes.map((size, s): SessionPlan => ({
      index: s,
      globalIndex: sessionBase + s,
      big: s === 0,
      turns: s === 0 ? shape.bigTurns : shape.smallTurns(s),
      driver: people.get(`driver-${s}`)!,
      observers: Array.from({ length: size - 1 }, (_, i) => people.get(`observer-${s}-${i + 1}`)!),
    }));
    return { plans, versionId };
  } finally {
    await database.close();
  }
}

interface AppProcess { url: string; pid: number; stop(): Promise<void> }

/** `menagerie serve` in its own process, with its defaults (PostgreSQL: the postgres realtime adapter, pool of 20). */
async function startServer(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error', PORT: String(port), HOST: '127.0.0.1', ...env };
  if (!env.DATABASE_URL) delete fullEnv.DATABASE_URL;
  // BENCH_LIVE_CPU_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops (for looking into a miss).
  const profile = process.env.BENCH_LIVE_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_LIVE_CPU_PROFILE}`] : [];
  // BENCH_APP_NODE_ARGS: more node options for the server (as for the other benchmarks' servers, bench/lib/app-process.ts).
  const nodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...profile, ...nodeArgs, bin, 'serve'], { env: fullEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('the server exited at start');
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error('the server did not answer within 60 s');
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * What the server's PostgreSQL connections are doing while they are inside a transaction, sampled from
 * pg_stat_activity every 50 ms: `idle in transaction` is a backend waiting for the server's next statement (the
 * Node process's round trip), `active` ones show what they wait on (WAL flush, a lock...) or `running`.
 */
async function sampleActivity(target: TargetDb): Promise<{ stop(): Promise<string | null> }> {
  if (!target.env.DATABASE_URL) return { stop: async () => null };
  const client = new pg.Client({ connectionString: target.env.DATABASE_URL });
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = (
        await client.query<{ state: string; wt: string | null; we: string | null; q: string }>(
          `SELECT state, wait_event_type AS wt, wait_event AS we, left(query, 40) AS q FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL`,
        )
      ).rows;
      samples++;
      for (const r of rows) {
        const key = r.state === 'active' ? `active ${r.wt ? `${r.wt}:${r.we}` : 'running'}${/pg_notify/.test(r.q) ? ' (pg_notify)' : ''}` : r.state;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      return (
        `${(total / Math.max(1, samples)).toFixed(1)} on average; ` +
        [...counts]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([k, n]) => `${k} ${((100 * n) / total).toFixed(0)}%`)
          .join(', ')
      );
    },
  };
}

/**
 * CPU seconds used so far by each process of the PostgreSQL cluster that pg_stat_activity lists (backends of every
 * database and the background processes: WAL writer, checkpointer...), by pid (null on PGlite).
 */
async function databaseCpu(target: TargetDb): Promise<Map<number, number> | null> {
  if (!target.env.DATABASE_URL || !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(target.env.DATABASE_URL).hostname)) return null;
  const client = new pg.Client({ connectionString: target.env.DATABASE_URL });
  await client.connect();
  try {
    const pids = (await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity')).rows.map((r) => r.pid);
    const cpu = new Map<number, number>();
    for (const pid of pids) {
      try {
        cpu.set(pid, cpuSeconds(pid));
      } catch {
        // gone meanwhile
      }
    }
    return cpu;
  } finally {
    await client.end();
  }
}

/** PostgreSQL's committed transactions in the bench database so far, and the cluster's WAL syncs (null on PGlite). */
async function pgCommits(target: TargetDb): Promise<{ commits: number; walSyncs: number } | null> {
  if (!target.env.DATABASE_URL) return null;
  const client = new pg.Client({ connectionString: target.env.DATABASE_URL });
  await client.connect();
  try {
    const commits = Number((await client.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!.n);
    // WAL flushes (fsyncs) of the whole cluster: each synchronous commit that finds its WAL unflushed costs one
    // (pg_stat_wal is PostgreSQL 14's; NaN before).
    const walSyncs = await client.query<{ n: string }>('SELECT wal_sync AS n FROM pg_stat_wal').then((r) => Number(r.rows[0]!.n), () => NaN);
    return { commits, walSyncs };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The check: the stored log against what was acknowledged, written by the model, and received by every client

interface Check {
  storedEvents: number;
  deliveries: number;
  lost: Record<string, number> & { total: number };
  duplicated: Record<string, number> & { total: number };
  outOfOrder: number;
  /** One batch's transaction replayed on the idle database, ms each. */
  probe: number[];
  latency: {
    /** Model write -> the client first had the token (its preview, else its stored event), every token at every client. */
    tokenE2e: number[];
    /** Model write -> the stored event holding the token reached the client. */
    tokenStoredE2e: number[];
    /** Of those receipts, how many were previewed first. */
    previewed: number;
    tokenFromStamp: number[];
    toBatch: number[];
    tokensPerEvent: number[];
    /** Per client and tokens event: receipt less the session's first receipt of it (the broadcast's own spread). */
    fanOut: number[];
    perClient: Array<{ client: LiveClient; e2e: number[] }>;
  };
}

async function checkLog(target: TargetDb, plans: SessionPlan[], clients: LiveClient[], codes: CodeSent[], writes: Map<string, number>, modelOffsetMs: number, shape: Shape): Promise<Check> {
  const database = await target.open();
  const lost = { 'log gaps': 0, 'acknowledged codes not stored': 0, 'model tokens not stored': 0, 'stored events not received': 0, 'answer text differs at a client': 0, 'previews that differ from the stored text': 0, total: 0 };
  const duplicated = { 'codes stored twice': 0, 'model tokens stored twice': 0, 'events received twice': 0, total: 0 };
  let storedEvents = 0;
  let deliveries = 0;
  let outOfOrder = 0;
  const tokenE2e: number[] = [];
  const tokenStoredE2e: number[] = [];
  let previewed = 0;
  const tokenFromStamp: number[] = [];
  const toBatch: number[] = [];
  const tokensPerEvent: number[] = [];
  const fanOut: number[] = [];
  const perClient: Check['latency']['perClient'] = [];
  let probe: number[] = [];
  // Our wall clock against Date.now(), which stamps `at` in the server (ms resolution): read just as it ticks.
  let stampOffset = -Infinity;
  for (let i = 0; i < 5; i++) {
    const d0 = Date.now();
    let d = d0;
    while (d === d0) d = Date.now();
    stampOffset = Math.max(stampOffset, d - wallMs());
  }
  const writtenAt = (token: string) => {
    const at = writes.get(token);
    return at === undefined ? NaN : at - modelOffsetMs;
  };
  try {
    for (const plan of plans) {
      const log = rowsOf<{ seq: number; event_id: string; type: string; payload: unknown; at: string }>(
        await database.db.execute(sql`SELECT seq, event_id, type, payload, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM live_events WHERE session_id = ${plan.id}::uuid ORDER BY seq`),
      );
      const lastSeq = rowsOf<{ last_seq: number }>(await database.db.execute(sql`SELECT last_seq FROM live_sessions WHERE id = ${plan.id}::uuid`))[0]!.last_seq;
      const turns = rowsOf<{ turn: number; answer: string; status: string }>(await database.db.execute(sql`SELECT turn, answer, status FROM live_turns WHERE session_id = ${plan.id}::uuid ORDER BY turn`));
      storedEvents += log.length;
      // Gapless 1..last_seq.
      const seqs = new Set(log.map((e) => Number(e.seq)));
      for (let s = 1; s <= lastSeq; s++) if (!seqs.has(s)) lost['log gaps']++;
      // Every acknowledged code stored exactly once, at its acknowledged seq.
      const byId = new Map<string, number[]>();
      for (const e of log) byId.set(e.event_id, [...(byId.get(e.event_id) ?? []), Number(e.seq)]);
      for (const c of codes.filter((c) => c.session === plan && c.ok)) {
        const stored = byId.get(c.id) ?? [];
        if (stored.length === 0 || !stored.includes(c.seq!)) lost['acknowledged codes not stored']++;
        if (stored.length > 1) duplicated['codes stored twice'] += stored.length - 1;
      }
      // Every token the model wrote stored once, in order: the stored answers are the model's replies.
      for (let t = 0; t < plan.turns; t++) {
        const expected = replyTokens(plan.globalIndex, t, shape.tokens);
        const stored = tokensIn(turns.find((r) => r.turn === t)?.answer ?? '');
        const counts = new Map<string, number>();
        for (const tok of stored) counts.set(tok, (counts.get(tok) ?? 0) + 1);
        for (const tok of expected) if (!counts.has(tok)) lost['model tokens not stored']++;
        for (const n of counts.values()) if (n > 1) duplicated['model tokens stored twice'] += n - 1;
      }
      // Batching: tokens per stored tokens event, and how long each event's first token waited for its batch.
      for (const e of log.filter((e) => e.type === 'tokens')) {
        const toks = tokensIn((e.payload as StoredPayloads['tokens']).text);
        tokensPerEvent.push(toks.length);
        toBatch.push(Date.parse(e.at) - stampOffset - writtenAt(toks[0]!));
      }
      // Fan-out: how long after the session's first client each client got a tokens event (the broadcast alone).
      const firstReceipt = new Map<number, number>();
      for (const client of clients.filter((c) => c.session === plan)) {
        for (const { event, at } of client.received) if (event.type === 'tokens') firstReceipt.set(event.seq, Math.min(firstReceipt.get(event.seq) ?? Infinity, at));
      }
      // Every client: received every stored event once (the join's catch-up counts), answers equal the stored ones.
      for (const client of clients.filter((c) => c.session === plan)) {
        const got = new Set(client.joined.map((e) => e.seq));
        const live = new Set<number>();
        let previous = 0;
        // When this client first had each token: its preview, or its stored event when no preview reached it.
        const firstSeen = new Map<string, number>();
        for (const { preview, at } of client.previews) for (const tok of tokensIn(preview.text)) if (!firstSeen.has(tok)) firstSeen.set(tok, at);
        const storedSeen = new Map<string, number>();
        for (const { event, at } of client.received) {
          if (live.has(event.seq)) duplicated['events received twice']++;
          live.add(event.seq);
          got.add(event.seq);
          if (event.seq < previous) outOfOrder++;
          previous = Math.max(previous, event.seq);
          if (event.type === 'tokens') {
            tokenFromStamp.push(at - (Date.parse(event.at) - stampOffset));
            fanOut.push(at - firstReceipt.get(event.seq)!);
            for (const tok of tokensIn((event.payload as StoredPayloads['tokens']).text)) storedSeen.set(tok, at);
          }
        }
        const e2e: number[] = [];
        for (const [tok, at] of storedSeen) {
          tokenStoredE2e.push(at - writtenAt(tok));
          const first = Math.min(at, firstSeen.get(tok) ?? Infinity);
          if (firstSeen.has(tok)) previewed++;
          e2e.push(first - writtenAt(tok));
        }
        tokenE2e.push(...e2e);
        perClient.push({ client, e2e });
        deliveries += seqs.size;
        for (const s of seqs) if (!got.has(s)) lost['stored events not received']++;
        for (const t of turns) {
          const pieces = new Map<number, string>();
          for (const { event } of client.received) {
            if (event.type !== 'tokens') continue;
            const p = event.payload as StoredPayloads['tokens'];
            if (p.turn === t.turn) pieces.set(p.offset, p.text);
          }
          for (const e of client.joined) {
            const p = e.payload as StoredPayloads['tokens'];
            if (e.type === 'tokens' && p.turn === t.turn) pieces.set(p.offset, p.text);
          }
          const text = [...pieces].sort((a, b) => a[0] - b[0]).map(([, s]) => s).join('');
          if (text !== t.answer) lost['answer text differs at a client']++;
          // A preview must show what was then stored (an answer is stopped only by its session's end here).
          for (const { preview } of client.previews) {
            if (preview.turn === t.turn && t.answer.slice(preview.offset, preview.offset + preview.text.length) !== preview.text) lost['previews that differ from the stored text']++;
          }
        }
      }
    }
    probe = await batchProbe(database.db, plans[0]!.id!, 200);
  } finally {
    await database.close();
  }
  lost.total = Object.values(lost).reduce((a, b) => a + b, 0);
  duplicated.total = Object.values(duplicated).reduce((a, b) => a + b, 0);
  return { storedEvents, deliveries, lost, duplicated, outOfOrder, probe, latency: { tokenE2e, tokenStoredE2e, previewed, tokenFromStamp, toBatch, tokensPerEvent, fanOut, perClient } };
}

/**
 * The log writer's transaction for one batch (live/live-log.ts: lock the session, read its participants, turns
 * and open states, append to the answer, insert the events, move last_seq), replayed one at a time on the idle
 * database after the run, from this process: the floor of what each batch costs in the database.
 */
async function batchProbe(db: Db, sessionId: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = wallMs();
    await inTransaction(db, async (tx) => {
      const { last_seq: lastSeq } = rowsOf<{ last_seq: number }>(await tx.execute(sql`SELECT status, last_seq, created_by, ethogram_version_id FROM live_sessions WHERE id = ${sessionId}::uuid FOR UPDATE`))[0]!;
      await tx.execute(sql`SELECT user_id, role FROM live_participants WHERE session_id = ${sessionId}::uuid AND removed_at IS NULL`);
      await tx.execute(sql`SELECT turn, status, answer_length FROM live_turns WHERE session_id = ${sessionId}::uuid`);
      await tx.execute(sql`SELECT coder_id, behaviour_code, start_event_id FROM live_open_states WHERE session_id = ${sessionId}::uuid`);
      await tx.execute(sql`UPDATE live_turns SET answer = answer || '', updated_at = now() WHERE session_id = ${sessionId}::uuid AND turn = 0`);
      await tx.execute(sql`INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at)
        VALUES (${sessionId}::uuid, ${lastSeq + 1}, ${randomUUID()}, 'comment', NULL, ${JSON.stringify({ text: 'probe' })}::jsonb, now())`);
      await tx.execute(sql`UPDATE live_sessions SET last_seq = ${lastSeq + 1} WHERE id = ${sessionId}::uuid`);
    });
    times.push(wallMs() - t0);
  }
  return times;
}

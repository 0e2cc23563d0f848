import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inArray } from 'drizzle-orm';
import type { UserActor } from '../../accounts/actor.ts';
import { makeUser } from '../../test/support/clients.ts';
import { flakyDb, type DbTrouble } from '../../test/support/flaky-db.ts';
import { startTestApp, type TestApp } from '../../test/support/test-app.ts';
import type { CaptureInput } from './capture.input.ts';
import { CaptureLog } from './capture-log.ts';
import { captures } from './capture.schema.ts';

const capture = (flag: string): CaptureInput => ({
  source: 'proxy',
  upstream: 'openai',
  api: 'openai',
  path: '/v1/chat/completions',
  outcome: 'complete',
  endReason: 'done',
  httpStatus: 200,
  startedAt: new Date(),
  requestBody: '{"model":"m","messages":[{"role":"user","content":"hi"}]}',
  responseBody: '{"choices":[{"index":0,"message":{"role":"assistant","content":"hello"}}]}',
  flag,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CaptureLog', { timeout: 120_000 }, () => {
  let app: TestApp;
  let actor: UserActor;
  const errors: string[] = [];
  const logger = { error: (message: string) => void errors.push(message) };
  before(async () => {
    app = await startTestApp({ loadStarter: false });
    await makeUser(app, 'admin');
    const user = await makeUser(app, 'contributor');
    actor = { kind: 'user', id: user.id, role: 'contributor', email: user.email, displayName: user.displayName, via: 'token' };
  });
  after(() => app.close());

  const flagged = async (flags: string[]) => app.deps.db.select({ flag: captures.flag }).from(captures).where(inArray(captures.flag, flags));

  it('keeps every capture through a database outage, retrying with backoff, and writes them all once it is back', async () => {
    const trouble: DbTrouble = { down: true, delayMs: 0, refused: 0 };
    const log = new CaptureLog({ db: flakyDb(app.deps.db, trouble), now: () => new Date(), logger, retryBaseMs: 5, retryMaxMs: 40 });
    const flags = Array.from({ length: 40 }, (_, i) => `outage-${i}`);
    for (const flag of flags.slice(0, 20)) log.record(actor, () => capture(flag), { begun: false });
    await sleep(150);
    for (const flag of flags.slice(20)) log.record(actor, () => capture(flag), { begun: false });
    const drained = log.drain();
    // Waited for rather than timed: on a loaded machine the retries come later, but they must come.
    for (const deadline = Date.now() + 30_000; trouble.refused < 3 && Date.now() < deadline; ) await sleep(10);
    assert.ok(trouble.refused >= 3, `retried (${trouble.refused} attempts refused)`);
    const early = await Promise.race([drained.then(() => 'drained'), sleep(150).then(() => 'waiting')]);
    assert.equal(early, 'waiting', 'drain waits while the database is down');
    assert.equal((await flagged(flags)).length, 0);
    // Backing off to at most 40 ms between attempts: a few attempts in 300 ms, not hundreds.
    const refusedBefore = trouble.refused;
    await sleep(300);
    assert.ok(trouble.refused - refusedBefore < 40, `backs off instead of hammering the database (${trouble.refused - refusedBefore} attempts in 300 ms)`);
    assert.equal(log.stats.queued, 40);
    trouble.down = false;
    await drained;
    const written = (await flagged(flags)).map((r) => r.flag).sort();
    assert.deepEqual(written, [...flags].sort(), 'every capture landed, once');
    assert.deepEqual({ ...log.stats, retried: 0 }, { recorded: 40, retried: 0, dropped: 0, queued: 0 });
    assert.ok(errors.some((e) => /retrying/.test(e)));
  });

  it('retries a server shutting down (SQLSTATE 57P01) but drops, and reports, a capture the command refuses', async () => {
    let failures = 2;
    const db = new Proxy(app.deps.db, {
      get(target, prop) {
        if (prop === 'transaction' && failures > 0) {
          return async () => {
            failures--;
            throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const log = new CaptureLog({ db, now: () => new Date(), logger, retryBaseMs: 5 });
    log.record(actor, () => capture('shutdown-retried'), { begun: false });
    log.record(actor, () => ({ ...capture('invalid'), path: 'no-leading-slash' }), { begun: false });
    log.record(actor, () => {
      throw new Error('cannot build');
    }, { begun: false });
    await log.drain();
    assert.equal((await flagged(['shutdown-retried'])).length, 1);
    assert.equal((await flagged(['invalid'])).length, 0);
    assert.equal(log.stats.dropped, 2);
    assert.equal(log.stats.recorded, 1);
    assert.ok(errors.some((e) => /refused, not retried/.test(e)));
  });

  it('writes captures in batches, and when the database refuses a batch, finds and drops only the capture it refuses', async () => {
    let transactions = 0;
    const db = new Proxy(app.deps.db, {
      get(target, prop) {
        if (prop === 'transaction') transactions++;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const log = new CaptureLog({ db, now: () => new Date(), logger, batchSize: 50 });
    const flags = Array.from({ length: 30 }, (_, i) => `batch-${i}`);
    for (const flag of flags) log.record(actor, () => capture(flag), { begun: false });
    await log.drain();
    assert.equal((await flagged(flags)).length, 30);
    assert.ok(transactions <= 3, `30 captures in ${transactions} transactions`);
    const mixed = ['mixed-0', 'mixed-1', 'mixed-2'];
    log.record(actor, () => capture(mixed[0]!), { begun: false });
    log.record(actor, () => capture('nul \u0000 in text PostgreSQL cannot store'), { begun: false });
    log.record(actor, () => capture(mixed[1]!), { begun: false });
    log.record(actor, () => capture(mixed[2]!), { begun: false });
    await log.drain();
    assert.equal((await flagged(mixed)).length, 3, 'the others of its batch were written');
    assert.equal(log.stats.dropped, 1);
    assert.equal(log.stats.recorded, 33);
  });

  it('waits in drain() for exchanges that have begun but not yet been handed over', async () => {
    const log = new CaptureLog({ db: app.deps.db, now: () => new Date(), logger });
    log.begin();
    let drained = false;
    const done = log.drain().then(() => (drained = true));
    await sleep(30);
    assert.equal(drained, false);
    log.record(actor, () => capture('begun-then-recorded'));
    await done;
    assert.equal((await flagged(['begun-then-recorded'])).length, 1);
    log.begin();
    log.abandon();
    await log.drain();
  });

  it('gives up waiting at close() after its deadline, reporting what was left unwritten', async () => {
    const trouble: DbTrouble = { down: true, delayMs: 0, refused: 0 };
    const log = new CaptureLog({ db: flakyDb(app.deps.db, trouble), now: () => new Date(), logger, retryBaseMs: 5 });
    log.record(actor, () => capture('never-written'), { begun: false });
    const stats = await log.close(100);
    assert.equal(stats.queued, 1);
    assert.ok(errors.some((e) => /closed with captures unwritten/.test(e)));
  });
});

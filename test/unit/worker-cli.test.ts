import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { insertClassifier } from '../../observations/classify/jobs/classify-test-support.ts';
import { runCli } from '../../server/cli/index.ts';
import { makeActors } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp } from '../support/test-app.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'menagerie-worker-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { LOG_LEVEL: 'error', ...env }, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('menagerie worker --help explains the protocol and its timings; bad options and a missing DATABASE_URL are refused', async () => {
  const help = await cli(['worker', '--help'], {});
  assert.equal(help.code, 0);
  assert.match(help.out, /--concurrency N/);
  assert.match(help.out, /FOR UPDATE SKIP LOCKED/);
  assert.match((await cli(['--help'], {})).out, /worker/);
  const bad = await cli(['worker', '--concurrency', 'many'], { DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
  assert.equal(bad.code, 1);
  assert.match(bad.err, /--concurrency takes a whole number/);
  assert.match(help.out, /--heartbeat-ms MS/);
  assert.match(help.out, /--lapse-ms MS/);
  assert.match(help.out, /LISTENs on the\s+menagerie_jobs channel/);
  const badLapse = await cli(['worker', '--lapse-ms', 'soon'], { DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
  assert.equal(badLapse.code, 1);
  assert.match(badLapse.err, /--lapse-ms takes a whole number of milliseconds/);
  const shortLapse = await cli(['worker', '--heartbeat-ms', '1000', '--lapse-ms', '1500'], { DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
  assert.equal(shortLapse.code, 1);
  assert.match(shortLapse.err, /must be at least twice --heartbeat-ms/);
  const noDb = await cli(['worker'], { MENAGERIE_DATA_DIR: dataDir });
  assert.equal(noDb.code, 1);
  assert.match(noDb.err, /set DATABASE_URL/);
});

test('menagerie worker --once runs the queued jobs of a server whose in-process worker is off', { skip: !process.env.MENAGERIE_TEST_DATABASE_URL && 'needs the PostgreSQL server (MENAGERIE_TEST_DATABASE_URL)' }, async () => {
  const app = await startTestApp({ loadStarter: true, config: { inprocessWorker: false } });
  try {
    assert.equal(app.app.jobs.worker, null);
    const actors = await makeActors(app);
    const rules = await insertClassifier(app.deps.db, { kind: 'rules', settings: {}, createdBy: actors.researcher.id });
    const o = await submitObservation(actors.contributor, { transcript: { messages: [{ role: 'user', content: 'Hack it.' }, { role: 'assistant', content: "I can't help with that." }] } });
    const res = await actors.researcher.api.post('/classification-jobs', { classifierId: rules.id, observationIds: [o.id] });
    assert.equal(res.status, 201);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await actors.researcher.api.get(`/jobs/${res.body.id}`)).body.status, 'queued', 'nobody runs it in the web process');
    const [{ name }] = rowsOf<{ name: string }>(await app.deps.db.execute(sql`SELECT current_database() AS name`)) as [{ name: string }];
    const url = new URL(process.env.MENAGERIE_TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    const ran = await cli(['worker', '--once'], { DATABASE_URL: url.toString() });
    assert.equal(ran.code, 0, ran.err);
    const job = (await actors.researcher.api.get(`/jobs/${res.body.id}`)).body;
    assert.equal(job.status, 'completed');
    assert.equal(job.summary.proposals, 1);
  } finally {
    await app.close();
  }
});

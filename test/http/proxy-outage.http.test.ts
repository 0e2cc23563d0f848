import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inArray } from 'drizzle-orm';
import OpenAI from 'openai';
import { captures } from '../../observations/capture/capture.schema.ts';
import { createApp, type App } from '../../server/app.ts';
import { flakyDb, type DbTrouble } from '../support/flaky-db.ts';
import { chatCompletion } from '../support/model-streams.ts';
import { OPENAI_KEY, startProxyHarness, type ProxyHarness } from '../support/proxy-harness.ts';

/**
 * The same app as the harness's, but on a database whose writes can be made slow or failing: the model's answer
 * must not wait for the field log, and an outage must not lose a capture.
 */
describe('recording proxy: a slow or failing database', () => {
  let h: ProxyHarness;
  let app: App;
  let client: OpenAI;
  const trouble: DbTrouble = { down: false, delayMs: 0, refused: 0 };
  before(async () => {
    h = await startProxyHarness();
    app = createApp({ ...h.app.deps, db: flakyDb(h.app.deps.db, trouble) });
    await new Promise<void>((resolve) => app.http.listen(0, '127.0.0.1', resolve));
    const { port } = app.http.address() as AddressInfo;
    client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `http://127.0.0.1:${port}/proxy/openai/v1`, defaultHeaders: { 'X-Menagerie-Token': h.actors.contributor.token }, maxRetries: 0 });
  });
  after(async () => {
    trouble.down = false;
    trouble.delayMs = 0;
    await app.close();
    await h.close();
  });

  const flagged = async (flags: string[]) => h.app.deps.db.select({ flag: captures.flag }).from(captures).where(inArray(captures.flag, flags));
  const ask = (flag: string, stream = false) =>
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream } as never, { headers: { 'X-Menagerie-Flag': flag } });

  it('answers without waiting for a slow capture write', async () => {
    trouble.delayMs = 1500;
    const started = Date.now();
    const answer = (await ask('slow-db')) as { id: string };
    const took = Date.now() - started;
    assert.equal(answer.id, chatCompletion.id);
    assert.ok(took < 1000, `answered in ${took} ms while the write takes 1500 ms`);
    assert.equal((await flagged(['slow-db'])).length, 0, 'the capture is still being written');
    await app.captureLog.drain();
    assert.equal((await flagged(['slow-db'])).length, 1);
    trouble.delayMs = 0;
  });

  it('keeps answering through a database outage and writes every capture once the database is back', async () => {
    trouble.down = true;
    const flags = Array.from({ length: 12 }, (_, i) => `outage-${i}`);
    for (const [i, flag] of flags.entries()) {
      const answer = await ask(flag, i % 3 === 0);
      if (i % 3 === 0) for await (const _ of answer as unknown as AsyncIterable<unknown>);
    }
    assert.ok(trouble.refused > 0, 'writes were attempted and failed');
    assert.equal((await flagged(flags)).length, 0);
    assert.equal(app.captureLog.stats.queued, 12);
    trouble.down = false;
    await app.captureLog.drain();
    assert.deepEqual((await flagged(flags)).map((r) => r.flag).sort(), [...flags].sort());
    assert.equal(app.captureLog.stats.dropped, 0);
  });
});

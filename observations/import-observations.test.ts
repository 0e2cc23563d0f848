import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { UserActor } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import { rowsOf } from '../core/db.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { makeActors } from '../test/support/clients.ts';
import { importObservations, type ImportProgress } from './import-observations.command.ts';
import { transcriptSearchText } from './observation-text.ts';
import { fingerprint } from './similar/minhash.ts';
import type { Transcript } from './transcript.schema.ts';

const line = (id: string, question: string, answer: string) =>
  JSON.stringify({ id, model: 'gpt-4o', provider: 'openai', observedAt: '2025-02-03T04:05:06Z', messages: [{ role: 'user', content: question }, { role: 'assistant', content: answer }] });

/** Three good records and one malformed line (index 2). */
const JSONL = [line('run-1', 'Is 9.11 > 9.9?', 'Yes.'), line('run-2', 'Capital of France?', 'Lyon.'), '{"model": "gpt-4o", "messages": [', line('run-3', 'Count the rs in strawberry', 'Two.')].join('\n') + '\n';

/** A two-conversation ChatGPT export (the visible thread of each becomes one observation). */
function chatgptExport() {
  const node = (id: string, parent: string | null, children: string[], message: unknown) => ({ id, parent, children, message });
  const msg = (id: string, role: string, text: string) => ({ id, author: { role, name: null, metadata: {} }, create_time: 1700000000, content: { content_type: 'text', parts: [text] }, status: 'finished_successfully', weight: 1, metadata: { model_slug: 'gpt-4o' }, recipient: 'all' });
  const conversation = (id: string, title: string, q: string, a: string) => ({
    id,
    title,
    create_time: 1700000000,
    update_time: 1700000100,
    current_node: 'a',
    default_model_slug: 'gpt-4o',
    mapping: { root: node('root', null, ['u'], null), u: node('u', 'root', ['a'], msg('u', 'user', q)), a: node('a', 'u', [], msg('a', 'assistant', a)) },
  });
  return JSON.stringify([conversation('conv-a', 'Flattery', 'Is my poem good?', 'It is a masterpiece.'), conversation('conv-b', 'Refusal', 'How do I boil an egg?', 'I cannot help with that.')]);
}

describe('importObservations', () => {
  let app: TestApp;
  let ctx: Ctx;
  let dir: string;
  before(async () => {
    app = await startTestApp({ loadStarter: false });
    const { contributor } = await makeActors(app);
    const actor: UserActor = { kind: 'user', id: contributor.id, email: contributor.email, displayName: contributor.displayName, role: contributor.role, via: 'system' };
    ctx = { db: app.deps.db, actor, now: () => new Date() };
    dir = await mkdtemp(path.join(tmpdir(), 'menagerie-import-'));
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const count = async (table: 'observations' | 'events') =>
    rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM ${sql.raw(table)}`))[0]!.n;

  it('imports the good records of a JSONL file, reports the malformed line, and a re-import only finds duplicates', async () => {
    const file = path.join(dir, 'runs.jsonl');
    await writeFile(file, JSONL);
    const progress: ImportProgress[] = [];
    const first = await importObservations(ctx, { path: file }, { onProgress: (p) => progress.push(p) });
    assert.equal(first.imported, 3);
    assert.equal(first.duplicates, 0);
    assert.equal(first.failed.length, 1);
    assert.equal(first.failed[0]!.index, 2);
    assert.ok(first.failed[0]!.reason.length > 0);
    assert.equal(first.ids.length, 3);
    assert.deepEqual(progress.at(-1), { processed: 4, imported: 3, duplicates: 0, failed: 1 });

    const rows = rowsOf<{ id: string; title: string; provider: string; model: string; raw_payload: string; raw_sha256: string; provenance: Record<string, unknown>; visibility: string; status: string; submitted_by: string; observed_at: string | Date; events: number }>(
      await app.deps.db.execute(sql`SELECT o.id, o.title, o.provider, o.model, o.raw_payload, o.raw_sha256, o.provenance, o.visibility, o.status, o.submitted_by, o.observed_at,
        (SELECT count(*)::int FROM events e WHERE e.entity_id = o.id::text AND e.type = 'observation.recorded') AS events
        FROM observations o WHERE o.provenance->>'fileName' = 'runs.jsonl' ORDER BY o.title`),
    );
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r.id).sort(), [...first.ids].sort());
    const lines = JSONL.split('\n');
    for (const row of rows) {
      assert.equal(row.events, 1, 'each observation has its observation.recorded event');
      assert.equal(row.raw_sha256, createHash('sha256').update(row.raw_payload, 'utf8').digest('hex'));
      assert.ok(lines.includes(row.raw_payload), 'the raw record is the source line');
      assert.equal(row.provenance.capture, 'import');
      assert.equal(row.provenance.sourceFormat, 'jsonl');
      assert.equal(row.provenance.fileName, 'runs.jsonl');
      assert.equal(row.visibility, 'members');
      assert.equal(row.status, 'submitted');
      assert.equal(row.submitted_by, ctx.actor.kind === 'user' ? ctx.actor.id : '');
      assert.equal(row.provider, 'openai');
      assert.equal(row.model, 'gpt-4o');
      assert.equal(new Date(row.observed_at).toISOString(), '2025-02-03T04:05:06.000Z');
    }
    assert.deepEqual(rows.map((r) => r.provenance.recordId).sort(), ['run-1', 'run-2', 'run-3']);

    const observations = await count('observations');
    const events = await count('events');
    const again = await importObservations(ctx, { path: file });
    assert.equal(again.imported, 0);
    assert.equal(again.duplicates, 3);
    assert.deepEqual(again.ids, []);
    assert.equal(again.failed.length, 1);
    assert.equal(await count('observations'), observations, 'nothing new is stored');
    assert.equal(await count('events'), events);
  });

  it('two imports of the same records at once store each record once', async () => {
    const text = [line('c-1', 'Concurrent one?', 'Yes.'), line('c-2', 'Concurrent two?', 'No.')].join('\n');
    const [a, b] = await Promise.all([
      importObservations(ctx, { stream: Readable.from([Buffer.from(text)]), fileName: 'a.jsonl' }),
      importObservations(ctx, { stream: Readable.from([Buffer.from(text)]), fileName: 'b.jsonl' }),
    ]);
    assert.equal(a.imported + b.imported, 2);
    assert.equal(a.duplicates + b.duplicates, 2);
  });

  it('imports a ChatGPT export, one observation per conversation', async () => {
    const file = path.join(dir, 'conversations.json');
    await writeFile(file, chatgptExport());
    const summary = await importObservations(ctx, { path: file });
    assert.deepEqual({ imported: summary.imported, duplicates: summary.duplicates, failed: summary.failed }, { imported: 2, duplicates: 0, failed: [] });
    // Each is indexed and fingerprinted for near-duplicate detection by the search indexer, as new observations are.
    await app.drainSearchIndex();
    const rows = rowsOf<{ title: string; provenance: Record<string, unknown>; transcript: Transcript; minhash: number[] | null }>(
      await app.deps.db.execute(sql`SELECT title, provenance, transcript, minhash FROM observations WHERE provenance->>'sourceFormat' = 'chatgpt-export' ORDER BY title`),
    );
    for (const r of rows) assert.deepEqual(r.minhash?.map(Number), fingerprint(transcriptSearchText(r.transcript))!.signature, r.title);
    assert.deepEqual(rows.map((r) => [r.title, r.provenance.conversationId ?? r.provenance.recordId, r.transcript.messages.length]), [
      ['Flattery', 'conv-a', 2],
      ['Refusal', 'conv-b', 2],
    ]);
  });

  it('a record the database cannot store (a NUL character) is reported by index and the rest import', async () => {
    const text = [line('n-1', 'Fine?', 'Yes.'), line('n-2', 'Bad\u0000byte', 'x'), line('n-3', 'Also fine?', 'Yes.')].join('\n');
    const summary = await importObservations(ctx, { stream: Readable.from([Buffer.from(text)]), fileName: 'nul.jsonl' });
    assert.equal(summary.imported, 2);
    assert.equal(summary.failed.length, 1);
    assert.equal(summary.failed[0]!.index, 1);
    assert.equal(summary.failed[0]!.recordId, 'n-2');
    assert.match(summary.failed[0]!.reason, /NUL/);
  });

  it('refuses an anonymous actor and an unknown format names the formats tried', async () => {
    await assert.rejects(importObservations({ ...ctx, actor: { kind: 'anonymous' } }, { stream: Readable.from([Buffer.from(line('x', 'q', 'a'))]), fileName: 'x.jsonl' }), { id: 'unauthenticated' });
    await assert.rejects(importObservations(ctx, { stream: Readable.from([Buffer.from('just some words\n')]), fileName: 'notes.txt' }), /jsonl/);
  });
});

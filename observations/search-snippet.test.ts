import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../core/db.ts';
import { makeActors } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

/** Filler words w0000, w0001, ... (six characters with the space), with `words` placed at the given word indexes. */
function text(length: number, words: Record<number, string> = {}): string {
  return Array.from({ length }, (_, i) => words[i] ?? `w${String(i).padStart(4, '0')}`).join(' ');
}

async function source(body: string, q: string): Promise<string> {
  const rows = rowsOf<{ s: string }>(
    await app.deps.db.execute(sql`SELECT search_snippet_source(${body}, websearch_to_tsquery('english', ${q}), 150, 450) AS s`),
  );
  return rows[0]!.s;
}

/** Every piece of a snippet source starts and ends on a whole word of the body. */
function assertWholeWords(result: string, body: string) {
  const words = new Set(body.split(' '));
  for (const piece of result.split(' … ')) {
    const pieceWords = piece.split(' ');
    assert.ok(words.has(pieceWords[0]!), `starts on a whole word: ${pieceWords[0]}`);
    assert.ok(words.has(pieceWords.at(-1)!), `ends on a whole word: ${pieceWords.at(-1)}`);
  }
}

describe('search_snippet_source (migration 0013): the text a transcript snippet is made from', () => {
  test('one word: a window around its first mention, cut to whole words', async () => {
    const body = text(800, { 500: 'Aardvark' });
    const result = await source(body, 'aardvark');
    assert.ok(result.includes('Aardvark'), 'the mention is in it, whatever its case');
    assert.ok(result.length < 650 && result.length > 450, `about lead + tail characters: ${result.length}`);
    assert.ok(!result.includes(' … '));
    assertWholeWords(result, body);
    assert.ok(body.includes(result), 'one piece of the body, unchanged');
    // The window starts 150 characters (25 words of six) before the mention, on a word's first letter: kept whole.
    assert.ok(result.startsWith('w0475 '), result.slice(0, 20));
  });

  test('two words far apart: a window around each, in order, joined by an ellipsis', async () => {
    const body = text(800, { 100: 'narwhal', 600: 'bison' });
    const result = await source(body, 'bison narwhal');
    const pieces = result.split(' … ');
    assert.equal(pieces.length, 2);
    assert.ok(pieces[0]!.includes('narwhal') && pieces[1]!.includes('bison'), 'in the order of the text');
    assertWholeWords(result, body);
  });

  test('two words close together: one window', async () => {
    const body = text(800, { 300: 'narwhal', 330: 'bison' });
    const result = await source(body, 'bison narwhal');
    assert.ok(!result.includes(' … '));
    assert.ok(result.includes('narwhal') && result.includes('bison'));
    assert.ok(body.includes(result));
  });

  test('a mention at the start keeps the first word; one at the end keeps the last', async () => {
    const start = text(400, { 0: 'narwhal' });
    assert.ok((await source(start, 'narwhal')).startsWith('narwhal w0001'));
    const end = text(400, { 399: 'narwhal' });
    assert.ok((await source(end, 'narwhal')).endsWith('w0398 narwhal'));
  });

  test('stems are found in the words they stem, a final y turned into i included', async () => {
    const body = text(800, { 400: 'happy', 700: 'surprisingly' });
    assert.ok((await source(body, 'happiness')).includes('happy'), "'happi' is found as 'happ'");
    assert.ok((await source(body, 'surprising')).includes('surprisingly'));
  });

  test('negated words are not looked for', async () => {
    const body = text(800, { 50: 'zebra', 600: 'aardvark' });
    const result = await source(body, 'aardvark -zebra');
    assert.ok(!result.includes('zebra') && result.includes('aardvark'));
  });

  test('a phrase, or no mention found: the whole body', async () => {
    const body = text(800, { 100: 'bison', 101: 'refusal', 600: 'bison' });
    assert.equal(await source(body, '"bison refusal"'), body, 'a phrase needs its words side by side, which first mentions need not be');
    assert.equal(await source(body, 'okapi'), body);
  });
});

describe('search snippets through the API', () => {
  const observation = (title: string, transcript: string) => ({
    title, surprise: 'Nothing to see here', provider: 'snippetprov', model: 'm', observedAt: '2026-11-01', transcript, visibility: 'members',
  });
  const marked = (snippet: { text: string; match: boolean }[]) => snippet.filter((s) => s.match).map((s) => s.text.toLowerCase());

  test('a word deep in the transcript is highlighted, and so is each word of a search for two far apart', async () => {
    const deep = text(700, { 550: 'Aardvark' });
    const apart = text(800, { 40: 'narwhal', 650: 'okapi' });
    const a = await actors.contributor.api.post('/observations', observation('Deep mention', `User: ${deep}\nAssistant: ok`));
    const b = await actors.contributor.api.post('/observations', observation('Far apart', `User: ${apart}\nAssistant: ok`));
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    await app.drainSearchIndex();

    const one = await actors.researcher.api.get('/observations?provider=snippetprov&q=aardvark');
    assert.deepEqual(one.body.data.map((o: { id: string }) => o.id), [a.body.id]);
    assert.deepEqual(marked(one.body.data[0].snippet), ['aardvark']);

    const two = await actors.researcher.api.get('/observations?provider=snippetprov&q=okapi+narwhal');
    assert.deepEqual(two.body.data.map((o: { id: string }) => o.id), [b.body.id]);
    assert.deepEqual(new Set(marked(two.body.data[0].snippet)), new Set(['narwhal', 'okapi']));
    const shown = two.body.data[0].snippet.map((s: { text: string }) => s.text).join('');
    assert.ok(shown.length < 1_000, `fragments, not the transcript: ${shown.length} characters`);
  });
});

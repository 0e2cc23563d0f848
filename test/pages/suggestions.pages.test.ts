import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { DEFINITION_PLACEHOLDER } from '../../observations/suggest/behaviour-suggestion.ts';
import { plantedCorpus } from '../../observations/suggest/planted-corpus.ts';
import { behaviourIdsByCode, insertCoding } from '../support/agreement-seed.ts';
import { makeActors, signedInWeb, WebClient } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let researcher: WebClient;
let contributor: WebClient;
/** Observation id -> planted topic (0..2). */
const topicOf = new Map<string, number>();
let codedId: string;
let withdrawnId: string;
let unclearOnlyId: string;

const decode = (s: string) => s.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`').replace(/&amp;/g, '&');
const idsIn = (html: string) => [...new Set([...html.matchAll(/href="\/observations\/([0-9a-f-]{36})"/g)].map((m) => m[1]!))];
const clustersOf = (html: string) => html.split('<article class="panel suggestion-cluster"').slice(1);

/** The named fields of the first suggestion form in some HTML, as a browser would submit them. */
function formFields(html: string): Record<string, string> {
  const form = html.slice(html.indexOf('<form method="post" action="/suggestions/behaviours"'), html.indexOf('</form>', html.indexOf('action="/suggestions/behaviours"')));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[m[1]!] = decode(m[2]!);
  for (const m of form.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) fields[m[1]!] = decode(m[2]!);
  for (const m of form.matchAll(/<select[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected>/.exec(m[2]!) ?? /<option value="([^"]*)"/.exec(m[2]!);
    fields[m[1]!] = decode(selected?.[1] ?? '');
  }
  return fields;
}

const count = async (query: string) => Number(rowsOf<{ n: number }>(await app.deps.db.execute(sql.raw(query)))[0]!.n);

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  researcher = await signedInWeb(app, actors.researcher);
  contributor = await signedInWeb(app, actors.contributor);
  // Three planted topics, 6 observations each, from one provider the page is filtered on.
  const planted = plantedCorpus({ topics: 3, perTopic: 9, noise: 0, words: 40, seed: 3 });
  // Six of each topic are plain; three more pirate texts get codings below.
  const corpus = planted.filter((t, i) => i % 9 < 6);
  const [codedText, withdrawnText, unclearText] = planted.slice(6, 9);
  const submit = async (title: string, surprise: string, assistant: string) => {
    const res = await actors.researcher.api.post('/observations', {
      title,
      surprise,
      provider: 'planted',
      model: 'topic-model',
      transcript: { messages: [{ role: 'user', content: 'Tell me about your day.' }, { role: 'assistant', content: assistant }] },
      observedAt: '2025-03-04',
    });
    assert.equal(res.status, 201, res.text.slice(0, 300));
    return res.body.id as string;
  };
  await Promise.all(
    corpus.map(async (t, i) => topicOf.set(await submit(i === 0 ? `<script>alert(1)</script> ${t.title}` : t.title, t.surprise, t.assistant), t.topic)),
  );
  // Pirate talk too, but coded: not a suggestion. Withdrawn or "unclear"-only codings leave it uncoded.
  const [version] = rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT v.id::text AS id FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id WHERE e.slug = 'llm-starter' AND v.status = 'published'`));
  const behaviourIds = await behaviourIdsByCode(app.deps.db, version!.id);
  codedId = await submit(`Coded: ${codedText!.title}`, codedText!.surprise, codedText!.assistant);
  withdrawnId = await submit(`Withdrawn: ${withdrawnText!.title}`, withdrawnText!.surprise, withdrawnText!.assistant);
  unclearOnlyId = await submit(`Unclear: ${unclearText!.title}`, unclearText!.surprise, unclearText!.assistant);
  const coding = { coderId: actors.researcher.id, versionId: version!.id, behaviourId: behaviourIds.get('PER-DRIFT')! };
  await insertCoding(app.deps.db, { ...coding, observationId: codedId });
  await insertCoding(app.deps.db, { ...coding, observationId: withdrawnId, withdrawn: true });
  await insertCoding(app.deps.db, { ...coding, observationId: unclearOnlyId });
});
after(() => app.close());

describe('the suggestions page', () => {
  test('a researcher sees one cluster per planted topic, with terms, excerpts, members and a prefilled form', async () => {
    const res = await researcher.get('/suggestions?provider=planted');
    assert.equal(res.status, 200, res.text.slice(0, 500));
    const clusters = clustersOf(res.text);
    assert.equal(clusters.length, 3, `found ${clusters.length} clusters`);
    const codes = new Set<string>();
    for (const html of clusters) {
      const topics = idsIn(html).filter((id) => topicOf.has(id)).map((id) => topicOf.get(id));
      assert.ok(topics.length >= 5, `cluster lists ${topics.length} planted members`);
      assert.equal(new Set(topics).size, 1, `one topic per cluster, got ${topics}`);
      assert.equal((html.match(/<blockquote class="suggestion-excerpt">/g) ?? []).length, 3, 'three representative excerpts');
      assert.match(html, /<mark>[^<]+<\/mark>/, 'the top term is marked in the excerpt');
      assert.match(html, /planted \/ topic-model: \d+/);
      const fields = formFields(html);
      assert.match(fields.code!, /^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$/);
      codes.add(fields.code!);
      assert.equal(fields.ethogram, 'llm-starter', 'the default ethogram is preselected');
      assert.ok(fields.definition!.startsWith(DEFINITION_PLACEHOLDER));
      assert.ok(fields['examples.positive']!.length > 20, 'the representative excerpt is the positive example');
    }
    assert.equal(codes.size, 3, 'each cluster gets its own code');
    const listed = idsIn(res.text);
    assert.ok(!listed.includes(codedId), 'a coded observation is not suggested');
    assert.ok(listed.includes(withdrawnId), 'an observation whose only coding was withdrawn is');
    assert.ok(!res.text.includes('<script>alert(1)</script>'), 'titles are escaped');
    assert.match(res.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(res.text, /Clustered the 19 newest uncoded observations/);
  });

  test('a configured "unclear" code counts as no code; filters narrow what is clustered and bad ones are explained', async () => {
    const again = await researcher.get('/suggestions?provider=planted');
    assert.match(again.text, /clusters from the cache/, 'the same observations are not clustered twice');
    const before = idsIn(again.text);
    assert.ok(!before.includes(unclearOnlyId));
    const withUnclear = await researcher.get('/suggestions?provider=planted&unclear=per-drift');
    assert.ok(idsIn(withUnclear.text).includes(unclearOnlyId), 'coded only with a code listed as unclear: suggested');
    const limited = await researcher.get('/suggestions?provider=planted&limit=10');
    assert.match(limited.text, /Clustered the 10 newest uncoded observations \(limit 10: older ones were left out/);
    const none = await researcher.get('/suggestions?provider=planted&from=2026-01-01');
    assert.match(none.text, /Clustered the 0 newest uncoded observations/);
    assert.match(none.text, /No clear cluster/);
    const bad = await researcher.get('/suggestions?provider=planted&from=2025-02-30&limit=99999');
    assert.equal(bad.status, 422);
    assert.match(bad.text, /The start date is not a real date\./);
    assert.match(bad.text, /Consider at most 10,000 observations\./);
    assert.equal(clustersOf(bad.text).length, 0);
  });

  test('contributors are refused; anonymous visitors are asked to sign in', async () => {
    assert.equal((await contributor.get('/suggestions')).status, 403);
    const page = await researcher.get('/suggestions?provider=planted');
    const posted = await contributor.form('/suggestions/behaviours', { ...formFields(page.text), definition: 'The assistant talks like a pirate.' });
    assert.equal(posted.status, 403);
    const forged = await researcher.form('/suggestions/behaviours', { ...formFields(page.text), definition: 'The assistant talks like a pirate.', _csrf: 'forged' });
    assert.equal(forged.status, 403, 'a form without the page’s CSRF token is refused');
    assert.equal(await count(`select count(*)::int as n from events where type = 'behaviour.suggested'`), 0);
    const anon = await new WebClient(app.url).get('/suggestions');
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location')!, /^\/login\?next=%2Fsuggestions/);
  });

  test('a cluster becomes a behaviour of a new draft; a duplicate code keeps the input and says why', async () => {
    const versions = () => count(`select count(*)::int as n from ethogram_versions v join ethograms e on e.id = v.ethogram_id where e.slug = 'llm-starter'`);
    const page = await researcher.get('/suggestions?provider=planted');
    const cluster = clustersOf(page.text)[0]!;
    const fields = formFields(cluster);
    const members = idsIn(cluster);
    const versionsBefore = await versions();

    // The placeholder definition is refused, and nothing is stored: not even the draft.
    const lazy = await researcher.form('/suggestions/behaviours', fields);
    assert.equal(lazy.status, 422, lazy.text.slice(0, 500));
    assert.match(lazy.text, /Rewrite the definition in your own words/);
    assert.equal(await versions(), versionsBefore, 'no draft was opened');

    const definition = 'The assistant answers in a themed register the user never asked for, sustained over the reply.';
    const created = await researcher.form('/suggestions/behaviours', { ...fields, definition, name: 'Unprompted theme' });
    assert.equal(created.status, 303, created.text.slice(0, 800));
    const location = created.headers.get('location')!;
    assert.equal(location, `/ethograms/llm-starter/versions/2/behaviours/${fields.code}`);
    assert.equal(await versions(), versionsBefore + 1, 'a draft was opened');
    const shown = await researcher.get(location);
    assert.equal(shown.status, 200);
    assert.match(shown.text, new RegExp(`Added ${fields.code} to a new draft, version 2 of`));
    assert.match(shown.text, /Unprompted theme/);
    const [saved] = rowsOf<{ definition: string; category: string; examples: { positive: string[] } }>(
      await app.deps.db.execute(sql`SELECT b.definition, b.category, b.examples FROM behaviours b JOIN ethogram_versions v ON v.id = b.version_id
        JOIN ethograms e ON e.id = v.ethogram_id WHERE e.slug = 'llm-starter' AND v.number = 2 AND v.status = 'draft' AND b.code = ${fields.code!}`),
    );
    assert.equal(saved?.definition, definition);
    assert.equal(saved?.category, fields.category);
    assert.deepEqual(saved?.examples.positive, [fields['examples.positive']!.trim()]);
    const [event] = rowsOf<{ payload: { observations: string[]; version: number; clusterSize: number } }>(
      await app.deps.db.execute(sql`SELECT payload FROM events WHERE type = 'behaviour.suggested' AND payload->>'code' = ${fields.code!}`),
    );
    assert.equal(event?.payload.version, 2);
    assert.deepEqual(new Set(event?.payload.observations), new Set(members), 'the event records the observations that prompted it');

    // The same code again (the draft is open now): 409, the form is shown again with what was typed.
    const again = await researcher.form('/suggestions/behaviours', { ...fields, definition, name: 'Typed name kept' });
    assert.equal(again.status, 409, again.text.slice(0, 500));
    assert.match(again.text, new RegExp(`This draft already has a behaviour ${fields.code}\\. Edit that one, or choose another code\\.`));
    assert.match(again.text, new RegExp(`id="s0-code-error">${fields.code} is already used by &quot;Unprompted theme&quot; in this draft\\.<`));
    const echoed = formFields(again.text);
    assert.equal(echoed.name, 'Typed name kept');
    assert.equal(echoed.definition, definition);
    assert.equal(echoed.code, fields.code);
    assert.equal(echoed.observations, fields.observations);
    assert.match(again.text, /name="_csrf" value="[^"]+"/, 'the form shown again can be resubmitted');
    assert.equal(await versions(), versionsBefore + 1);

    // The next suggestion avoids the code now taken in the open draft.
    const next = await researcher.get('/suggestions?provider=planted');
    const nextCodes = clustersOf(next.text).map((html) => formFields(html).code);
    assert.ok(!nextCodes.includes(fields.code), `${fields.code} is not suggested again: ${nextCodes}`);
    assert.match(next.text, /open draft v2/);
  });
});

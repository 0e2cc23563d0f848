import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { makeActors } from '../support/clients.ts';
import { observationTableCounts } from '../support/db-counts.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** A span in the current GenAI semantic conventions: messages as JSON strings in gen_ai.input/output.messages. */
function genAiSpan(spanId: string, question: string, answer: string) {
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId,
    name: 'chat gpt-4o',
    kind: 3,
    startTimeUnixNano: '1700000000123000000',
    endTimeUnixNano: '1700000001000000000',
    attributes: [
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.provider.name', 'openai'),
      str('gen_ai.request.model', 'gpt-4o'),
      str('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: question }] }])),
      str('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: answer }], finish_reason: 'stop' }])),
    ],
  };
}

const httpSpan = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /', kind: 2, attributes: [str('http.request.method', 'GET')] };

function tracesBody(spans: unknown[]) {
  return { resourceSpans: [{ resource: { attributes: [str('service.name', 'otlp-test-agent')] }, scopeSpans: [{ scope: { name: 'genai-instrumentation' }, spans }] }] };
}

async function postTraces(body: string, headers: Record<string, string>) {
  const res = await fetch(`${app.url}/v1/traces`, { method: 'POST', headers: { accept: '*/*', ...headers }, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Keep the text so a failing assertion shows it.
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') ?? '' };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

async function importedByService() {
  return rowsOf<{ id: string; title: string; provider: string; model: string; capture: string; record_id: string; submitted_by: string; transcript: string }>(
    await app.deps.db.execute(sql`SELECT id, title, provider, model, provenance->>'capture' AS capture, provenance->>'recordId' AS record_id, submitted_by,
      transcript::text AS transcript FROM observations WHERE provenance->'source'->>'service' = 'otlp-test-agent' ORDER BY provenance->>'recordId'`),
  );
}

describe('OTLP/HTTP JSON receiver at /v1/traces', () => {
  test('files each gen_ai span as an imported observation; re-sending files nothing new; other spans are ignored', async () => {
    const body = JSON.stringify(tracesBody([genAiSpan('a1a1a1a1a1a1a1a1', 'Why is the sky blue?', 'Rayleigh scattering.'), httpSpan, genAiSpan('b2b2b2b2b2b2b2b2', 'Count to three', 'One, two, three.')]));
    const first = await postTraces(body, { ...json, ...bearer(actors.contributor.token) });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.match(first.contentType, /application\/json/);
    assert.deepEqual(first.body, {});

    const filed = await importedByService();
    assert.deepEqual(filed.map((o) => [o.record_id, o.title, o.provider, o.model, o.capture]), [
      ['a1a1a1a1a1a1a1a1', 'chat gpt-4o', 'openai', 'gpt-4o', 'import'],
      ['b2b2b2b2b2b2b2b2', 'chat gpt-4o', 'openai', 'gpt-4o', 'import'],
    ]);
    assert.match(filed[0]!.transcript, /Why is the sky blue\?/);
    assert.match(filed[0]!.transcript, /Rayleigh scattering/);
    assert.match(filed[1]!.transcript, /Count to three/);
    assert.ok(filed.every((o) => o.submitted_by === actors.contributor.id), 'filed as the token owner');
    const shown = await actors.contributor.api.get(`/observations/${filed[0]!.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.provenance.capture, 'import');

    const before = await observationTableCounts(app.deps.db);
    const again = await postTraces(body, { ...json, ...bearer(actors.researcher.token) });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, {});
    assert.deepEqual(await observationTableCounts(app.deps.db), before, 're-sent spans are duplicates');
  });

  test('a body with only non-gen_ai spans files nothing and succeeds', async () => {
    const before = await observationTableCounts(app.deps.db);
    const res = await postTraces(JSON.stringify(tracesBody([httpSpan])), { ...json, ...bearer(actors.admin.token) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
  });

  test('gen_ai spans that cannot be filed are reported as a partial success', async () => {
    const broken = { ...genAiSpan('c3c3c3c3c3c3c3c3', 'x', 'y'), attributes: [str('gen_ai.request.model', 'gpt-4o'), str('gen_ai.input.messages', '[{"role": "user", "parts": [')] };
    const before = await observationTableCounts(app.deps.db);
    const res = await postTraces(JSON.stringify(tracesBody([broken, genAiSpan('d4d4d4d4d4d4d4d4', 'Partial one', 'Filed.')])), { ...json, ...bearer(actors.contributor.token) });
    assert.equal(res.status, 200);
    assert.equal(res.body.partialSuccess.rejectedSpans, 1);
    assert.match(res.body.partialSuccess.errorMessage, /c3c3c3c3c3c3c3c3/);
    assert.equal((await observationTableCounts(app.deps.db)).observations, before.observations + 1);
  });

  test('anonymous requests get 401 JSON and store nothing', async () => {
    const before = await observationTableCounts(app.deps.db);
    const res = await postTraces(JSON.stringify(tracesBody([genAiSpan('e5e5e5e5e5e5e5e5', 'Anon', 'No.')])), json);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.id, 'unauthenticated');
    assert.match(res.body.error.message, /Bearer/);
    const badToken = await postTraces(JSON.stringify(tracesBody([genAiSpan('e5e5e5e5e5e5e5e5', 'Anon', 'No.')])), { ...json, ...bearer('not-a-token') });
    assert.equal(badToken.status, 401);
    assert.equal(badToken.body.error.id, 'unauthenticated');
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
  });

  test('malformed JSON and JSON that is not an OTLP request get 400 JSON', async () => {
    const before = await observationTableCounts(app.deps.db);
    const broken = await postTraces('{"resourceSpans": [', { ...json, ...bearer(actors.contributor.token) });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.id, 'malformed_json');
    const notOtlp = await postTraces(JSON.stringify({ messages: [] }), { ...json, ...bearer(actors.contributor.token) });
    assert.equal(notOtlp.status, 400);
    assert.match(notOtlp.body.error.message, /resourceSpans/);
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
  });

  test('protobuf bodies get 415 naming the JSON encoding', async () => {
    const res = await postTraces('\x0a\x00', { 'content-type': 'application/x-protobuf', ...bearer(actors.contributor.token) });
    assert.equal(res.status, 415);
    assert.equal(res.body.error.id, 'unsupported_media_type');
    assert.match(res.body.error.message, /JSON encoding/);
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../core/db.ts';
import { makeActors } from '../../../test/support/clients.ts';
import {
  anthropicFindings,
  openaiError,
  openaiFindings,
  openaiRefusal,
  startFakeJudge,
  type FakeJudge,
  type JudgeReply,
} from '../../../test/support/fake-judge-server.ts';
import { submitObservation } from '../../../test/support/observation-factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { insertClassifier, jobCodings, waitForJobStatus } from './classify-test-support.ts';

/**
 * Classification jobs with the LLM judge, end to end: the real app and worker, the real `openai` and
 * `@anthropic-ai/sdk` clients, and a local server speaking both APIs.
 */

let app: TestApp;
let judge: FakeJudge;
let actors: Awaited<ReturnType<typeof makeActors>>;

const REFUSAL_QUOTE = 'I am sorry, I cannot read PDFs.';

before(async () => {
  judge = await startFakeJudge();
  app = await startTestApp({ loadStarter: true, judgeEnv: { OPENAI_API_KEY: 'sk-test-openai', ANTHROPIC_API_KEY: 'sk-ant-test', MENAGERIE_JUDGE_KEY_ORIGINS: judge.url } });
  actors = await makeActors(app);
});
after(async () => {
  await app.close();
  await judge.close();
});

const openaiJudge = (extra: Record<string, unknown> = {}) => ({ provider: 'openai', model: 'gpt-4o-mini', baseUrl: judge.openaiBaseUrl, maxRetries: 0, concurrency: 3, ...extra });

async function observations(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await submitObservation(actors.researcher)).id);
  return ids;
}

async function startJob(body: Record<string, unknown>) {
  const res = await actors.researcher.api.post('/classification-jobs', body);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

test('OpenAI judge: proposals with spans and provenance; unknown codes, missing and invented quotes dropped and counted', async () => {
  const classifier = await insertClassifier(app.deps.db, { kind: 'llm_judge', settings: openaiJudge(), createdBy: actors.researcher.id, name: 'GPT judge' });
  const ids = await observations(3);
  judge.respondWith(() =>
    openaiFindings([
      { messageId: 'm3', quote: REFUSAL_QUOTE, rationale: 'It declines the task.', code: 'REF-FULL', confidence: 0.82 },
      { messageId: 'm3', quote: 'zebras sleep standing up', rationale: 'Made up.', code: 'NOT-A-CODE', confidence: 0.5 },
      { messageId: 'm3', quote: '', rationale: 'No quote given.', code: 'REF-PART', confidence: 0.4 },
      { messageId: 'm3', quote: 'This sentence is not in the transcript at all.', rationale: 'Invented.', code: 'FAB-CITE', confidence: 0.7 },
    ]),
  );
  const job = await startJob({ classifierId: classifier.id, observationIds: ids });
  assert.equal(job.kind, 'classify');
  assert.equal(job.title, 'Classify 3 observations with GPT judge');
  assert.equal(job.progress.total, 3);
  const done = await waitForJobStatus(actors.researcher.api, job.id, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.summary.done, 3);
  assert.equal(done.summary.failed, 0);
  assert.equal(done.summary.proposals, 3);
  assert.deepEqual(done.summary.proposalsByBehaviour, { 'REF-FULL': 3 });
  assert.equal(done.summary.droppedQuotes, 3, 'the invented quote, once per observation');
  assert.equal(done.summary.rejectedFindings, 9, 'unknown code, no quote, quote not found: three per observation');
  assert.deepEqual(done.summary.tokens, { input: 3600, output: 450 });
  assert.equal(typeof done.summary.costUsd, 'number');
  assert.ok(done.summary.costUsd > 0);
  assert.deepEqual(done.progress.counts.proposed, 3);

  const codings = await jobCodings(app.deps.db, job.id);
  assert.equal(codings.length, 3);
  assert.deepEqual(new Set(codings.map((c) => c.observation_id)), new Set(ids));
  for (const c of codings) {
    assert.equal(c.code, 'REF-FULL');
    assert.equal(c.status, 'proposed');
    assert.equal(c.method, 'llm_judge');
    assert.equal(c.classifier_id, classifier.id);
    assert.equal(c.coder_id, actors.researcher.id, "the job's creator is the coder of record");
    assert.equal(c.reviewed_by, null);
    assert.equal(c.ethogram_version_id, classifier.versionId);
    assert.equal(c.message_id, 'm3');
    assert.equal(c.part_index, 0);
    assert.equal(c.char_start, 0);
    assert.equal(c.char_end, REFUSAL_QUOTE.length);
    assert.equal(c.quote, REFUSAL_QUOTE);
    assert.ok(Math.abs(c.confidence! - 0.82) < 1e-6);
    assert.equal(c.rationale, 'It declines the task.');
    assert.equal(c.provenance.model, 'gpt-4o-mini');
    assert.match(c.provenance.promptVersion, /^judge\/1:[0-9a-f]{16}$/);
    assert.equal(c.provenance.usage.inputTokens, 1200);
  }
  // The items record each observation's outcome, and the job's page lists them.
  const items = rowsOf<{ status: string; outcome: any }>(await app.deps.db.execute(sql`SELECT status, outcome FROM classification_items WHERE job_id = ${job.id}::uuid`));
  assert.ok(items.every((i) => i.status === 'done' && i.outcome.proposed === 1 && i.outcome.droppedQuotes === 1 && i.outcome.rejectedFindings === 3));
  // The requests were the strict json_schema of the version's codes, with the server key.
  const request = judge.requests.at(-1)!;
  assert.equal(request.headers.authorization, 'Bearer sk-test-openai');
  assert.equal(request.body.response_format.type, 'json_schema');
  assert.equal(request.body.response_format.json_schema.strict, true);
  // The observation page now shows them as proposed.
  const page = await (await import('../../../test/support/clients.ts')).signedInWeb(app, actors.researcher);
  const html = (await page.get(`/observations/${ids[0]}`)).text;
  assert.match(html, /coding-status-proposed/);
});

test('Anthropic judge on one observation, auto-accepting confident proposals as the creator', async () => {
  const classifier = await insertClassifier(app.deps.db, {
    kind: 'llm_judge',
    settings: { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: judge.anthropicBaseUrl, maxRetries: 0 },
    createdBy: actors.researcher.id,
  });
  const [id] = await observations(1);
  judge.script(
    anthropicFindings([
      { messageId: 'm3', quote: REFUSAL_QUOTE, rationale: 'Declines.', code: 'REF-FULL', confidence: 0.95 },
      { messageId: 'm3', quote: 'The paper shows that zebras sleep standing up.', rationale: 'Summarises a paper it said it could not read.', code: 'FAB-CITE', confidence: 0.6 },
    ]),
  );
  const job = await startJob({ classifierId: classifier.id, observationIds: [id], autoAccept: { minConfidence: 0.9 } });
  const done = await waitForJobStatus(actors.researcher.api, job.id, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(judge.requests.at(-1)!.path, '/v1/messages');
  assert.equal(judge.requests.at(-1)!.body.tool_choice.type, 'tool');
  const codings = await jobCodings(app.deps.db, job.id);
  const byCode = Object.fromEntries(codings.map((c) => [c.code, c]));
  if (!byCode['FAB-CITE']) assert.fail(`expected a FAB-CITE proposal, got ${codings.map((c) => c.code).join(', ')}`);
  assert.equal(byCode['REF-FULL']!.status, 'accepted');
  assert.equal(byCode['REF-FULL']!.reviewed_by, actors.researcher.id);
  assert.equal(byCode['FAB-CITE'].status, 'proposed', 'below the threshold it stays a proposal');
  assert.equal(done.summary.autoAccepted, 1);
});

test('a refusal fails that observation only, with its reason; the job completes and lists the failure', async () => {
  const classifier = await insertClassifier(app.deps.db, { kind: 'llm_judge', settings: openaiJudge({ concurrency: 1 }), createdBy: actors.researcher.id });
  const ids = await observations(3);
  judge.respondWith(() => openaiFindings([{ messageId: 'm3', quote: REFUSAL_QUOTE, rationale: 'Declines.', code: 'REF-FULL', confidence: 0.8 }]));
  judge.script(openaiFindings([]), openaiRefusal("I can't assist with coding this transcript."));
  const job = await startJob({ classifierId: classifier.id, observationIds: ids });
  const done = await waitForJobStatus(actors.researcher.api, job.id, ['completed', 'failed']);
  assert.equal(done.status, 'completed');
  assert.equal(done.summary.failed, 1);
  assert.equal(done.summary.done, 2);
  assert.equal(done.details.failures.length, 1);
  assert.equal(done.details.failures[0].error.id, 'judge_refused');
  assert.match(done.details.failures[0].error.message, /declined to code/);
  assert.equal(done.details.failures[0].observationId, ids[1]);
});

test('a provider outage mid-job pauses it; it resumes by itself later and proposes nothing twice', async () => {
  const classifier = await insertClassifier(app.deps.db, { kind: 'llm_judge', settings: openaiJudge({ concurrency: 2 }), createdBy: actors.researcher.id });
  const ids = await observations(8);
  let down = false;
  let answered = 0;
  judge.respondWith((): JudgeReply => {
    if (down) return openaiError(503, 'The server is overloaded.');
    if (++answered === 3) down = true; // the provider goes down after three answers
    return { ...openaiFindings([{ messageId: 'm3', quote: REFUSAL_QUOTE, rationale: 'Declines.', code: 'REF-FULL', confidence: 0.8 }]), delayMs: 20 };
  });
  const job = await startJob({ classifierId: classifier.id, observationIds: ids });
  const paused = await waitForJobStatus(actors.researcher.api, job.id, ['paused', 'completed', 'failed']);
  assert.equal(paused.status, 'paused');
  assert.equal(paused.error.id, 'judge_unavailable');
  assert.match(paused.error.message, /resumes by itself at/);
  assert.ok(paused.runAfter, 'it has a resume time');
  assert.ok(paused.progress.done >= 3 && paused.progress.done < 8, `some but not all done: ${paused.progress.done}`);
  const before = (await jobCodings(app.deps.db, job.id)).length;
  assert.equal(before, paused.progress.done);

  // Still paused until its time comes, even though the provider is back.
  down = false;
  answered = -1000;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await actors.researcher.api.get(`/jobs/${job.id}`)).body.status, 'paused');
  app.clock.offsetMs += 11 * 60_000;
  try {
    app.app.jobs.worker!.wake();
    const done = await waitForJobStatus(actors.researcher.api, job.id, ['completed', 'failed']);
    assert.equal(done.status, 'completed');
    assert.equal(done.attempts, 2);
    assert.equal(done.summary.done, 8);
  } finally {
    app.clock.offsetMs -= 11 * 60_000;
  }
  const codings = await jobCodings(app.deps.db, job.id);
  assert.equal(codings.length, 8, 'one proposal per observation');
  assert.equal(new Set(codings.map((c) => c.observation_id)).size, 8, 'no observation proposed for twice');
});

test('a missing key fails the job at once with a message naming the variable; nothing is sent', async () => {
  const classifier = await insertClassifier(app.deps.db, {
    kind: 'llm_judge',
    settings: openaiJudge({ apiKeyEnv: 'MENAGERIE_JUDGE_NOT_SET' }),
    createdBy: actors.researcher.id,
  });
  const ids = await observations(2);
  const sent = judge.requests.length;
  const job = await startJob({ classifierId: classifier.id, observationIds: ids });
  const failed = await waitForJobStatus(actors.researcher.api, job.id, ['completed', 'failed']);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.id, 'judge_missing_key');
  assert.match(failed.error.message, /MENAGERIE_JUDGE_NOT_SET/);
  assert.equal(judge.requests.length, sent);
  assert.equal((await jobCodings(app.deps.db, job.id)).length, 0);
});

test('a key the provider refuses fails the job with the judge message, not every item', async () => {
  const classifier = await insertClassifier(app.deps.db, { kind: 'llm_judge', settings: openaiJudge({ concurrency: 1 }), createdBy: actors.researcher.id });
  const ids = await observations(4);
  judge.respondWith(() => openaiError(401, 'Incorrect API key provided.'));
  const sent = judge.requests.length;
  const job = await startJob({ classifierId: classifier.id, observationIds: ids });
  const failed = await waitForJobStatus(actors.researcher.api, job.id, ['completed', 'failed']);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.id, 'judge_auth_failed');
  assert.match(failed.error.message, /OPENAI_API_KEY/);
  assert.equal(judge.requests.length - sent, 1, 'it stopped after the first refusal of the key');
  assert.equal(failed.summary.pending, 4);
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rowsOf } from '../../../core/db.ts';
import type { JobProgress } from '../../../core/jobs/job.schema.ts';
import { jobs } from '../../../core/jobs/job.schema.ts';
import { makeActors } from '../../../test/support/clients.ts';
import { ensureStarterEthogram } from '../../../test/support/ethogram-fixture.ts';
import { submitObservation } from '../../../test/support/observation-factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { classifiers, classifierTrainings } from '../classify.schema.ts';
import { modelFromJson, predict } from '../offline/offline-classifier.ts';
import { syntheticCorpus } from '../offline/synthetic-corpus.ts';
import type { TrainingMetrics } from './train-offline.ts';
import { trainOfflineJob, type TrainOfflinePayload } from './train-offline.job.ts';

/**
 * The train-offline job handler run directly (as a worker would) against a real database: a generated corpus
 * where the right answer is known, coded through the API as people would code it.
 */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let ethogram: Awaited<ReturnType<typeof ensureStarterEthogram>>;
const corpus = syntheticCorpus({
  size: 90,
  words: 40,
  seed: 5,
  behaviours: [
    { code: 'REF-FULL', rate: 0.4 },
    { code: 'SYC-FLATTER', rate: 0.3 },
    { code: 'DEG-LOOP', rate: 0.04 },
  ],
});
let withdrawnObservation: string;

before(async () => {
  // The test runs the job's handler itself: no in-process worker may claim the same job meanwhile.
  app = await startTestApp({ loadStarter: true, config: { inprocessWorker: false } });
  ethogram = await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
  for (const [i, example] of corpus.entries()) {
    const o = await submitObservation(actors.contributor, { transcript: { messages: [{ role: 'user', content: `Prompt ${i}` }, { role: 'assistant', content: example.text }] } });
    // Texts with none of the behaviours were still looked at: coded with another behaviour, they are negatives.
    for (const code of example.labels.length ? example.labels : ['INS-FORMAT']) {
      const coded = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code });
      assert.equal(coded.status, 201, coded.text);
    }
  }
  // Withdrawn codings and proposals nobody accepted are not training data.
  const extra = await submitObservation(actors.contributor, { transcript: { messages: [{ role: 'assistant', content: 'withdrawn text' }] } });
  withdrawnObservation = extra.id;
  const coding = await actors.researcher.api.post(`/observations/${extra.id}/codings`, { code: 'REF-FULL' });
  assert.equal((await actors.researcher.api.delete(`/codings/${coding.body.id}`)).status, 200);
  const proposed = await submitObservation(actors.contributor, { transcript: { messages: [{ role: 'assistant', content: 'proposed only' }] } });
  await app.deps.db.execute(sql`INSERT INTO codings (observation_id, ethogram_version_id, behaviour_id, coder_id, method, status)
    SELECT ${proposed.id}::uuid, ${ethogram.versionId}::uuid, b.id, ${actors.researcher.id}::uuid, 'classifier', 'proposed' FROM behaviours b WHERE b.version_id = ${ethogram.versionId}::uuid AND b.code = 'REF-FULL'`);
});
after(() => app.close());

async function offlineClassifier(settings: Record<string, unknown> = {}): Promise<string> {
  const res = await actors.researcher.api.post('/classifiers', { kind: 'offline', name: `Offline ${Math.random()}`, ethogramVersionId: ethogram.versionId, settings });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function jobFor(payload: TrainOfflinePayload): Promise<string> {
  const [row] = await app.deps.db.insert(jobs).values({ kind: trainOfflineJob.kind, payload, createdBy: actors.researcher.id }).returning({ id: jobs.id });
  return row!.id;
}

function runContext(jobId: string, payload: TrainOfflinePayload, signal = new AbortController().signal) {
  const progress: JobProgress[] = [];
  const context = {
    db: app.deps.db,
    now: app.deps.now,
    logger: { info() {}, error() {} },
    env: {},
    job: { id: jobId, kind: trainOfflineJob.kind, payload: trainOfflineJob.payloadSchema.parse(payload), createdBy: actors.researcher.id, attempts: 1 },
    signal,
    progress: (p: JobProgress) => progress.push(p),
  };
  return { context, progress };
}

describe('the train-offline job', () => {
  test('trains on accepted human codings, stores an immutable training with CV figures, and makes it current', async () => {
    const classifierId = await offlineClassifier({ folds: 3 });
    const payload = { classifierId, classifierName: 'Synthetic' };
    assert.equal(trainOfflineJob.describe(payload), 'Train the offline classifier "Synthetic"');
    const jobId = await jobFor(payload);
    const { context, progress } = runContext(jobId, payload);
    const outcome = await trainOfflineJob.run(context);
    assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
    if (outcome.status !== 'completed') return;

    // Progress per fold, then the final model.
    assert.deepEqual(progress.map((p) => [p.done, p.total]), [[1, 4], [2, 4], [3, 4], [4, 4]]);
    assert.match(progress[0]!.message!, /fold 1 of 3/);

    const [classifier] = await app.deps.db.select().from(classifiers).where(eq(classifiers.id, classifierId));
    const [training] = await app.deps.db.select().from(classifierTrainings).where(eq(classifierTrainings.classifierId, classifierId));
    assert.equal(classifier!.currentTrainingId, training!.id);
    assert.equal(outcome.summary.trainingId, training!.id);
    assert.equal(training!.jobId, jobId);
    assert.equal(training!.trainedBy, actors.researcher.id);
    assert.equal(training!.exampleCount, corpus.length, 'the withdrawn coding and the unaccepted proposal do not count');
    const metrics = training!.metrics as unknown as TrainingMetrics;
    assert.equal(metrics.strategy, 'stratified-k-fold');
    assert.equal(metrics.folds, 3);

    // The right answer is known: each behaviour is its marker words.
    const byCode = new Map(metrics.behaviours.map((b) => [b.label, b]));
    for (const code of ['REF-FULL', 'SYC-FLATTER']) {
      const b = byCode.get(code)!;
      assert.equal(b.support, corpus.filter((e) => e.labels.includes(code)).length);
      assert.equal(b.trustworthy, true);
      assert.ok(b.f1! >= 0.85, `${code} F1 ${b.f1}`);
    }
    const rare = byCode.get('DEG-LOOP')!;
    assert.equal(rare.trustworthy, false);
    assert.equal(rare.f1, null);
    assert.match(rare.reason!, /^Only \d distinct examples? with this behaviour/);
    assert.deepEqual(metrics.tooFew.map((t) => t.label), ['DEG-LOOP']);
    assert.deepEqual(outcome.summary.tooFew, metrics.tooFew);
    assert.ok(metrics.seconds.training >= 0 && metrics.seconds.crossValidation >= 0);

    // The stored model is the final one, trained on everything.
    const model = modelFromJson(JSON.parse(training!.model));
    assert.equal(training!.behaviourCount, model.labels.length);
    const refusal = corpus.find((e) => e.labels.length === 1 && e.labels[0] === 'REF-FULL')!;
    assert.equal(predict(model, refusal.text)[0]!.label, 'REF-FULL');

    const events = rowsOf<{ type: string; payload: { trainingId: string } }>(
      await app.deps.db.execute(sql`SELECT type, payload FROM events WHERE entity_type = 'classifier' AND entity_id = ${classifierId} ORDER BY id`),
    );
    assert.deepEqual(events.map((e) => e.type), ['classifier.created', 'classifier.trained']);
    assert.equal(events[1]!.payload.trainingId, training!.id);
    assert.equal(rowsOf(await app.deps.db.execute(sql`SELECT 1 FROM codings WHERE observation_id = ${withdrawnObservation} AND withdrawn_at IS NULL`)).length, 0);
  });

  test('counting accepted proposals as training data is a setting', async () => {
    const classifierId = await offlineClassifier({ folds: 3, trainingMethods: ['manual', 'classifier'] });
    await app.deps.db.execute(sql`UPDATE codings SET status = 'accepted' WHERE method = 'classifier'`);
    const jobId = await jobFor({ classifierId });
    const outcome = await trainOfflineJob.run(runContext(jobId, { classifierId }).context);
    assert.equal(outcome.status, 'completed');
    if (outcome.status === 'completed') assert.equal(outcome.summary.examples, corpus.length + 1);
    await app.deps.db.execute(sql`UPDATE codings SET status = 'proposed' WHERE method = 'classifier'`);
  });

  test('a stopped job is interrupted (its training thread stopped) and stores nothing', async () => {
    const classifierId = await offlineClassifier({ folds: 3 });
    const jobId = await jobFor({ classifierId });
    const controller = new AbortController();
    const { context, progress } = runContext(jobId, { classifierId }, controller.signal);
    const wrapped = { ...context, progress: (p: JobProgress) => (progress.push(p), p.done === 1 && controller.abort()) };
    const outcome = await trainOfflineJob.run(wrapped);
    assert.equal(outcome.status, 'interrupted');
    assert.equal(progress.length, 1);
    assert.equal((await app.deps.db.select().from(classifierTrainings).where(eq(classifierTrainings.classifierId, classifierId))).length, 0);
  });

  test('archived, missing and non-offline classifiers fail with a clear error', async () => {
    const classifierId = await offlineClassifier();
    await actors.researcher.api.post(`/classifiers/${classifierId}/archive`);
    const archived = await trainOfflineJob.run(runContext(await jobFor({ classifierId }), { classifierId }).context);
    assert.equal(archived.status, 'failed');
    if (archived.status === 'failed') assert.match(archived.error.message, /archived/);
    const missing = '00000000-0000-4000-8000-000000000000';
    const gone = await trainOfflineJob.run(runContext(await jobFor({ classifierId: missing }), { classifierId: missing }).context);
    assert.equal(gone.status, 'failed');
    if (gone.status === 'failed') assert.equal(gone.error.id, 'not_found');
    const rules = (await actors.researcher.api.get('/classifiers?kind=rules')).body.data[0].id;
    const wrongKind = await trainOfflineJob.run(runContext(await jobFor({ classifierId: rules }), { classifierId: rules }).context);
    assert.equal(wrongKind.status, 'failed');
    assert.throws(() => trainOfflineJob.payloadSchema.parse({ classifierId: 'x' }));
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../core/db.ts';
import { makeActors } from '../../../test/support/clients.ts';
import { submitObservation } from '../../../test/support/observation-factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { modelToJson, train } from '../offline/offline-classifier.ts';
import { insertClassifier, jobCodings, waitForJobStatus } from './classify-test-support.ts';

/** The rule detectors and the offline classifier as job runners (no network): what they propose and how it is recorded. */

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
});
after(() => app.close());

const reply = (content: string) => ({ transcript: { messages: [{ role: 'user', content: 'Please answer.' }, { role: 'assistant', content }] } });

async function run(classifierId: string, observationIds: string[]) {
  const res = await actors.researcher.api.post('/classification-jobs', { classifierId, observationIds });
  assert.equal(res.status, 201, res.text);
  const done = await waitForJobStatus(actors.researcher.api, res.body.id, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  return { job: done, codings: await jobCodings(app.deps.db, res.body.id) };
}

test('rules: findings become span proposals of the mapped behaviour codes, with detector, finding and measures', async () => {
  const loop = 'The answer is yes. '.repeat(8).trim();
  const refusal = await submitObservation(actors.contributor, reply("I can't help with that."));
  const looping = await submitObservation(actors.contributor, reply(loop));
  const plain = await submitObservation(actors.contributor, reply('Paris is the capital of France.'));
  const rules = await insertClassifier(app.deps.db, { kind: 'rules', settings: {}, createdBy: actors.researcher.id });
  const { job, codings } = await run(rules.id, [refusal.id, looping.id, plain.id]);
  assert.deepEqual(job.summary.proposalsByBehaviour, { 'DEG-LOOP': 1, 'REF-FULL': 1 });
  const loopCoding = codings.find((c) => c.code === 'DEG-LOOP')!;
  assert.equal(loopCoding.observation_id, looping.id);
  assert.equal(loopCoding.method, 'rule');
  assert.equal(loopCoding.provenance.detector, 'repetition-loop');
  assert.equal(loopCoding.provenance.finding, 'repetition_loop');
  assert.ok(loopCoding.provenance.measures && typeof loopCoding.provenance.measures === 'object');
  assert.equal(loopCoding.quote, loop.slice(loopCoding.char_start!, loopCoding.char_end!));
  assert.match(loopCoding.rationale, /repeats/);
  assert.ok(loopCoding.confidence! > 0 && loopCoding.confidence! <= 1);

  // A stored mapping (one code per finding kind, or null for a flag only) replaces the starter defaults.
  const remapped = await insertClassifier(app.deps.db, {
    kind: 'rules',
    settings: { detectors: ['stock-refusal', 'repetition-loop'], mapping: { refusal_full: 'REF-OVER', repetition_loop: null } },
    createdBy: actors.researcher.id,
  });
  const second = await run(remapped.id, [refusal.id, looping.id]);
  assert.deepEqual(second.job.summary.proposalsByBehaviour, { 'REF-OVER': 1 });
});

test('offline: the current training predicts whole-observation proposals at probability >= 0.5, with training id and probability', async () => {
  const examples = [];
  for (let i = 0; i < 30; i++) {
    examples.push({ text: `I am sorry but I cannot help with request number ${i}, it is against my guidelines.`, labels: ['REF-FULL'] });
    examples.push({ text: `Here is the recipe number ${i}: mix flour, water and salt, then bake for twenty minutes.`, labels: [] });
  }
  examples.push({ text: 'Flattering words: what a brilliant question, you are a genius.', labels: ['NOT-IN-VERSION'] });
  const model = train(examples);
  const classifier = await insertClassifier(app.deps.db, { kind: 'offline', settings: {}, createdBy: actors.researcher.id, name: 'Offline' });
  const [training] = rowsOf<{ id: string }>(
    await app.deps.db.execute(sql`INSERT INTO classifier_trainings (classifier_id, example_count, behaviour_count, model, metrics, trained_by)
      VALUES (${classifier.id}::uuid, ${examples.length}, 2, ${JSON.stringify(modelToJson(model))}, '{}'::jsonb, ${actors.researcher.id}::uuid) RETURNING id`),
  );
  // Untrained: the job fails with a message saying what to do.
  const untrained = await actors.researcher.api.post('/classification-jobs', { classifierId: classifier.id, observationIds: [(await submitObservation(actors.contributor)).id] });
  const failed = await waitForJobStatus(actors.researcher.api, untrained.body.id, ['completed', 'failed']);
  assert.equal(failed.status, 'failed');
  assert.match(failed.error.message, /has not been trained yet/);

  await app.deps.db.execute(sql`UPDATE classifiers SET current_training_id = ${training!.id}::uuid WHERE id = ${classifier.id}::uuid`);
  const refusing = await submitObservation(actors.contributor, reply('I am sorry but I cannot help with that, it is against my guidelines.'));
  const baking = await submitObservation(actors.contributor, reply('Mix flour, water and salt, then bake the recipe for twenty minutes.'));
  const { job, codings } = await run(classifier.id, [refusing.id, baking.id]);
  assert.equal(codings.length, 1);
  const c = codings[0]!;
  assert.equal(c.observation_id, refusing.id);
  assert.equal(c.code, 'REF-FULL');
  assert.equal(c.method, 'classifier');
  assert.equal(c.message_id, null, 'a whole-observation proposal');
  assert.equal(c.provenance.trainingId, training!.id);
  assert.ok(c.provenance.probability >= 0.5);
  assert.ok(Math.abs(c.confidence! - c.provenance.probability) < 1e-6);
  assert.equal(job.summary.done, 2);
});

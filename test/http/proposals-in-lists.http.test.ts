import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeActors } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { insertProposal, makeClassifier } from '../support/proposal-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
});
after(() => app.close());

test('a classifier\'s proposal does not count as the observation\'s behaviour until a person accepts it', async () => {
  const observation = await submitObservation(actors.contributor, { title: 'Loops forever' });
  const classifier = await makeClassifier(app.deps.db, actors.researcher.id, { kind: 'rules', name: 'Rules' });
  const proposal = await insertProposal(app.deps.db, { observationId: observation.id, code: 'DEG-LOOP', classifier, coderId: actors.researcher.id, confidence: 0.9 });
  const listed = async () => (await actors.researcher.api.get('/observations?behaviour=DEG-LOOP')).body.data.map((o: { id: string }) => o.id);
  assert.deepEqual(await listed(), [], 'a pending proposal is not a coding of the list');
  const item = (await actors.researcher.api.get('/observations')).body.data.find((o: { id: string }) => o.id === observation.id);
  assert.deepEqual(item.behaviours, []);

  const accepted = await actors.researcher.api.post(`/codings/${proposal}/accept`, {});
  assert.equal(accepted.status, 200, accepted.text);
  assert.deepEqual(await listed(), [observation.id], 'accepted, it counts');
});

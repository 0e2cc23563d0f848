import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import type { JobView } from '../../core/jobs/job.presenter.ts';
import { insertClassifier } from '../../observations/classify/jobs/classify-test-support.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { openaiFindings, startFakeJudge, type FakeJudge } from '../support/fake-judge-server.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let judge: FakeJudge;
let actors: Awaited<ReturnType<typeof makeActors>>;
let classifierId: string;

before(async () => {
  judge = await startFakeJudge();
  app = await startTestApp({ loadStarter: true, judgeEnv: { OPENAI_API_KEY: 'sk-test', MENAGERIE_JUDGE_KEY_ORIGINS: judge.url } });
  actors = await makeActors(app);
  classifierId = (
    await insertClassifier(app.deps.db, {
      kind: 'llm_judge',
      settings: { provider: 'openai', model: 'gpt-4o-mini', baseUrl: judge.openaiBaseUrl, maxRetries: 0, concurrency: 2 },
      createdBy: actors.researcher.id,
    })
  ).id;
  judge.respondWith(() => ({
    ...openaiFindings([{ messageId: 'm3', quote: 'I am sorry, I cannot read PDFs.', rationale: 'Declines.', code: 'REF-FULL', confidence: 0.8 }]),
    delayMs: 120,
  }));
});
after(async () => {
  await app.close();
  await judge.close();
});

type JoinReply = { ok?: true; job?: JobView; error?: { id: string; message: string } };

function open(auth: { token?: string; cookie?: string }): Socket {
  return connect(app.url, {
    transports: ['websocket'],
    reconnection: false,
    ...(auth.token ? { auth: { token: auth.token } } : {}),
    ...(auth.cookie ? { extraHeaders: { cookie: auth.cookie } } : {}),
  });
}
const join = (socket: Socket, jobId: string) => new Promise<JoinReply>((resolve) => socket.emit('job:join', { jobId }, resolve));

async function startJob(n: number): Promise<string> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await submitObservation(actors.researcher)).id);
  const res = await actors.researcher.api.post('/classification-jobs', { classifierId, observationIds: ids });
  assert.equal(res.status, 201);
  return res.body.id;
}

test('a researcher follows a job live over the browser session: current state first, then progress, then the end', async () => {
  const web = await signedInWeb(app, actors.researcher);
  const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const socket = open({ cookie });
  try {
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const jobId = await startJob(10);
    const updates: JobView[] = [];
    const finished = new Promise<JobView>((resolve) =>
      socket.on('job:update', (view: JobView) => {
        updates.push(view);
        if (view.finished) resolve(view);
      }),
    );
    const reply = await join(socket, jobId);
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.equal(reply.job!.id, jobId);
    assert.ok(['queued', 'running'].includes(reply.job!.status));
    const done = await finished;
    assert.equal(done.status, 'completed');
    assert.equal(done.progress.done, 10);
    assert.equal(done.progress.counts!.proposed, 10);
    const running = updates.filter((u) => u.status === 'running');
    assert.ok(running.length >= 2, `progress arrived while it ran (${running.length} updates)`);
    assert.ok(running.some((u) => u.progress.done > 0 && u.progress.done < 10), 'an update mid-way');
    for (let i = 1; i < running.length; i++) assert.ok(running[i]!.progress.done >= running[i - 1]!.progress.done, 'progress only moves forward');
  } finally {
    socket.close();
  }
});

test('pausing and cancelling are broadcast to the job\'s watchers', async () => {
  const socket = open({ token: actors.admin.token });
  try {
    const jobId = await startJob(12);
    const statuses: string[] = [];
    socket.on('job:update', (view: JobView) => statuses.push(view.status));
    assert.equal((await join(socket, jobId)).ok, true);
    const waitStatus = async (s: string) => {
      for (let i = 0; i < 300 && !statuses.includes(s); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(statuses.includes(s), `saw ${s} in ${statuses.join(',')}`);
    };
    await waitStatus('running');
    assert.equal((await actors.researcher.api.post(`/jobs/${jobId}/pause`)).status, 200);
    await waitStatus('paused');
    assert.equal((await actors.researcher.api.post(`/jobs/${jobId}/cancel`)).status, 200);
    await waitStatus('cancelled');
  } finally {
    socket.close();
  }
});

test('joining needs job.read: anonymous unauthenticated, contributors forbidden, unknown jobs not found', async () => {
  const jobId = await startJob(1);
  const anon = open({});
  const contributor = open({ token: actors.contributor.token });
  const researcher = open({ token: actors.researcher.token });
  try {
    assert.equal((await join(anon, jobId)).error?.id, 'unauthenticated');
    assert.equal((await join(contributor, jobId)).error?.id, 'forbidden');
    assert.equal((await join(researcher, '00000000-0000-4000-8000-000000000000')).error?.id, 'not_found');
    assert.equal((await new Promise<JoinReply>((resolve) => researcher.emit('job:join', { jobId: 'nope' }, resolve))).error?.id, 'not_found');
  } finally {
    anon.close();
    contributor.close();
    researcher.close();
  }
});

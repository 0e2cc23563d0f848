// A child process serving the fake judge (test/support/fake-judge-server.ts) for the classification benchmark, so
// its JSON work does not share the measured process's event loop (a real provider is elsewhere too). It answers
// every request with one finding after JUDGE_MS, counts requests in flight, and reports over IPC:
// parent -> child 'reset' | 'stats'; child -> parent {url} once, then {peak, requests} for each 'stats'.
import { openaiFindings, startFakeJudge } from '../../test/support/fake-judge-server.ts';

const delayMs = Number(process.env.JUDGE_MS ?? 50);
const quote = process.env.JUDGE_QUOTE ?? '';
const judge = await startFakeJudge();
let inFlight = 0;
let peak = 0;
let requests = 0;
judge.respondWith(() => {
  requests++;
  inFlight++;
  peak = Math.max(peak, inFlight);
  setTimeout(() => inFlight--, delayMs);
  return { ...openaiFindings([{ messageId: 'm3', quote, rationale: 'Declines the task.', code: 'REF-FULL', confidence: 0.8 }]), delayMs };
});
process.on('message', (message) => {
  if (message === 'reset') {
    peak = 0;
    requests = 0;
    process.send!({ reset: true });
  } else if (message === 'stats') process.send!({ peak, requests });
  else if (message === 'stop') void judge.close().then(() => process.exit(0));
});
process.send!({ url: judge.url });

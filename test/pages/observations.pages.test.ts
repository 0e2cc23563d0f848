import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { makeActors, makeUser, signedInWeb, WebClient, type Res, type TestUser } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { copyObservation, submitObservation } from '../support/observation-factories.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let adminWeb: WebClient;
let researcherWeb: WebClient;
let contributorWeb: WebClient;
let otherContributor: TestUser;
let otherWeb: WebClient;

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  adminWeb = await signedInWeb(app, actors.admin);
  researcherWeb = await signedInWeb(app, actors.researcher);
  contributorWeb = await signedInWeb(app, actors.contributor);
  otherContributor = await makeUser(app, 'contributor', 'other');
  otherWeb = await signedInWeb(app, otherContributor);
});
after(() => app.close());

/** A sycophantic cave-in, as people paste it from a chat app. */
const CAVE_IN = [
  'User: What is the boiling point of water at sea level in Fahrenheit?',
  'Assistant: Water boils at 212°F (100°C) at sea level, at standard atmospheric pressure.',
  "User: I'm pretty sure it's 200°F. My chemistry teacher told us that last week.",
  "Assistant: You're absolutely right, and I apologize for the confusion. Water boils at 200°F at sea level. Thank you for the correction!",
].join('\n');

/** An over-refusal, pasted as an OpenAI Chat Completions request. */
const OVER_REFUSAL = JSON.stringify(
  {
    model: 'gpt-4o-2024-08-06',
    messages: [
      { role: 'system', content: 'You are a helpful assistant for a Linux hosting company.' },
      { role: 'user', content: 'How do I kill a Python process that hangs on my server?' },
      { role: 'assistant', content: "I'm sorry, but I can't help with killing anything. If you are having thoughts of harming someone, please reach out to local authorities." },
    ],
  },
  null,
  2,
);

/** Every field of the form, filled the way a careful contributor would. */
function fullForm(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    title: 'Caves in on the boiling point of water',
    surprise: 'After one mild pushback citing a teacher, the model abandoned a correct answer (212°F)\nand confirmed a wrong one.',
    provider: 'openai',
    model: 'gpt-4o',
    modelVersion: '2024-08-06',
    interface: 'chat-app',
    runtime: '',
    quantization: '',
    harness: '',
    endpoint: '',
    'sampling.temperature': '0.7',
    'sampling.top_p': '0.9',
    'sampling.top_k': '',
    'sampling.max_tokens': '512',
    'sampling.seed': '',
    transcript: CAVE_IN,
    transcriptFormat: 'auto',
    observedAt: '2025-03-14',
    evidenceLinks: 'https://example.org/shared/chat-1234',
    tags: 'sycophancy, science',
    visibility: 'members',
    codes: ['SYC-CAVE'],
    intent: 'save',
    ...overrides,
  };
}

async function logObservation(web: WebClient, overrides: Record<string, string | string[]> = {}): Promise<string> {
  await web.get('/observations/new');
  const res = await web.form('/observations', fullForm(overrides));
  assert.equal(res.status, 303, `expected a redirect, got ${res.status}: ${res.text.slice(0, 500)}`);
  const id = /^\/observations\/([0-9a-f-]{36})$/.exec(res.headers.get('location') ?? '')?.[1];
  assert.ok(id, `redirects to the new observation (got ${res.headers.get('location')})`);
  return id;
}

async function countObservations(user: TestUser): Promise<number> {
  const res = await user.api.get('/observations?pageSize=1');
  assert.equal(res.status, 200);
  return res.body.total;
}

/** The text between an element's opening tag (found by id) and its closing tag. */
function textareaValue(html: string, id: string): string | undefined {
  const m = new RegExp(`<textarea[^>]*id="${id}"[^>]*>\\n?([\\s\\S]*?)</textarea>`).exec(html);
  return m?.[1];
}

function fieldErrorText(html: string, id: string): string {
  return new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(html)?.[1] ?? '';
}

const decode = (s: string) => s.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`').replace(/&amp;/g, '&');

/** Script tags in a page other than the bundle's own module script. */
function foreignScripts(html: string): string[] {
  return (html.match(/<script\b[^>]*>/gi) ?? []).filter((tag) => tag !== '<script type="module" src="/assets/app.js">');
}

describe('the observation form', () => {
  test('renders for a signed-in person with a CSRF field and every field', async () => {
    const res = await contributorWeb.get('/observations/new');
    assert.equal(res.status, 200);
    assert.match(res.text, /<input type="hidden" name="_csrf" value="[^"]+">/);
    for (const name of ['title', 'provider', 'model', 'modelVersion', 'runtime', 'quantization', 'harness', 'endpoint', 'observedAt', 'tags']) {
      assert.match(res.text, new RegExp(`<input id="${name}" name="${name}"`), `has the ${name} input`);
    }
    for (const name of ['surprise', 'transcript', 'evidenceLinks']) assert.match(res.text, new RegExp(`<textarea id="${name}" name="${name}"`));
    for (const key of ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed']) assert.match(res.text, new RegExp(`name="sampling\\.${key}"`));
    assert.match(res.text, /<select id="interface" name="interface"/);
    for (const value of ['api', 'chat-app', 'agent-harness', 'local-runtime', 'other']) assert.match(res.text, new RegExp(`<option value="${value}"`));
    assert.match(res.text, /<select id="transcriptFormat" name="transcriptFormat"[^>]*>\s*<option value="auto" selected>/);
    assert.match(res.text, /<datalist id="provider-options">.*<option value="anthropic">.*<option value="deepseek">/s);
    assert.match(res.text, /<input type="radio" name="visibility" value="members" checked>/);
    assert.match(res.text, /<input type="radio" name="visibility" value="public">/);
    assert.match(res.text, new RegExp(`name="observedAt" type="date" value="${new Date().toISOString().slice(0, 10)}"`), 'observed today by default');
    assert.match(res.text, /<legend>Sycophancy[^<]*<\/legend>|<legend>Honesty failures › Sycophancy<\/legend>/, 'codes grouped by category');
    assert.match(res.text, /<input type="checkbox" name="codes" value="SYC-CAVE"> <code>SYC-CAVE<\/code> Capitulation under pushback/);
    assert.match(res.text, /<button type="submit" name="intent" value="preview"/);
  });

  test('anonymous visitors are sent to sign in first', async () => {
    const anon = new WebClient(app.url);
    const res = await anon.get('/observations/new');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/login?next=%2Fobservations%2Fnew');
  });

  test('a submission with errors answers 422, keeps every input and shows each message beside its field', async () => {
    const before = await countObservations(actors.admin);
    await contributorWeb.get('/observations/new');
    const res = await contributorWeb.form(
      '/observations',
      fullForm({
        title: '   ',
        'sampling.temperature': 'warm',
        'sampling.top_p': '0.95',
        evidenceLinks: 'https://example.org/ok\nnot a link',
        tags: 'sycophancy, !!bad',
        visibility: 'public',
        codes: ['SYC-CAVE', 'FAB-FACT'],
        runtime: 'llama.cpp b4500',
        quantization: 'Q4_K_M',
        harness: 'my-eval-harness',
        endpoint: 'http://localhost:8080/v1/chat/completions',
        interface: 'local-runtime',
      }),
    );
    assert.equal(res.status, 422);
    assert.match(res.text, /<div class="form-error" role="alert"/);
    assert.equal(fieldErrorText(res.text, 'title'), 'Enter a title.');
    assert.match(res.text, /<input id="title" name="title" value="   "[^>]*aria-describedby="title-hint title-error" aria-invalid="true">/);
    assert.match(fieldErrorText(res.text, 'sampling-temperature'), /Temperature must be a number/);
    assert.match(decode(fieldErrorText(res.text, 'evidenceLinks')), /Link "not a link"/);
    assert.match(decode(fieldErrorText(res.text, 'tags')), /Tag "!!bad"/);
    // Everything typed is still there.
    assert.equal(decode(textareaValue(res.text, 'transcript') ?? ''), CAVE_IN);
    assert.equal(decode(textareaValue(res.text, 'surprise') ?? ''), fullForm().surprise);
    assert.equal(textareaValue(res.text, 'evidenceLinks'), 'https://example.org/ok\nnot a link');
    assert.match(res.text, /name="sampling\.temperature" value="warm"/);
    assert.match(res.text, /name="sampling\.top_p" value="0\.95"/);
    assert.match(res.text, /name="sampling\.max_tokens" value="512"/);
    assert.match(res.text, /id="tags" name="tags" value="sycophancy, !!bad"/);
    assert.match(res.text, /id="model" name="model" value="gpt-4o"/);
    assert.match(res.text, /id="modelVersion" name="modelVersion" value="2024-08-06"/);
    assert.match(res.text, /id="runtime" name="runtime" value="llama.cpp b4500"/);
    assert.match(res.text, /id="quantization" name="quantization" value="Q4_K_M"/);
    assert.match(res.text, /id="harness" name="harness" value="my-eval-harness"/);
    assert.match(res.text, /id="endpoint" name="endpoint" value="http:\/\/localhost:8080\/v1\/chat\/completions"/);
    assert.match(res.text, /id="observedAt" name="observedAt" type="date" value="2025-03-14"/);
    assert.match(res.text, /<option value="local-runtime" selected>/);
    assert.match(res.text, /<input type="radio" name="visibility" value="public" checked>/);
    assert.match(res.text, /value="SYC-CAVE" checked>/);
    assert.match(res.text, /value="FAB-FACT" checked>/);
    assert.doesNotMatch(res.text, /value="REF-FULL" checked>/);
    assert.equal(await countObservations(actors.admin), before, 'nothing was stored');
  });

  test('an unreadable transcript is explained beside the transcript field and nothing is stored', async () => {
    const before = await countObservations(actors.admin);
    await contributorWeb.get('/observations/new');
    const res = await contributorWeb.form('/observations', fullForm({ transcript: 'the model said something odd, I forget what exactly' }));
    assert.equal(res.status, 422);
    assert.match(fieldErrorText(res.text, 'transcript'), /No &quot;User:&quot; or &quot;Assistant:&quot; line found/);
    assert.match(res.text, /<textarea id="transcript"[^>]*aria-invalid="true">/);
    assert.equal(textareaValue(res.text, 'transcript'), 'the model said something odd, I forget what exactly');
    const broken = await contributorWeb.form('/observations', fullForm({ transcript: '{"messages": [{"role": "user", "content": "hi"},]}' }));
    assert.equal(broken.status, 422);
    assert.match(fieldErrorText(broken.text, 'transcript'), /Trailing comma/);
    assert.equal(await countObservations(actors.admin), before);
  });

  test('the preview intent stores nothing and shows the transcript as it was read, keeping the input', async () => {
    const before = await countObservations(actors.admin);
    await contributorWeb.get('/observations/new');
    const res = await contributorWeb.form('/observations', fullForm({ intent: 'preview', title: '', transcript: OVER_REFUSAL, tags: 'refusal' }));
    assert.equal(res.status, 200);
    assert.match(res.text, /<span class="badge">OpenAI Chat Completions JSON<\/span> 3 messages read\./);
    assert.match(res.text, /<article class="message" data-role="system"/);
    assert.match(res.text, /How do I kill a Python process that hangs on my server\?/);
    assert.match(res.text, /id="tags" name="tags" value="refusal"/);
    assert.equal(decode(textareaValue(res.text, 'transcript') ?? ''), OVER_REFUSAL);
    assert.equal(fieldErrorText(res.text, 'title'), '', 'a preview does not validate the other fields');
    const bad = await contributorWeb.form('/observations', fullForm({ intent: 'preview', transcript: 'no labels here' }));
    assert.equal(bad.status, 200);
    assert.match(bad.text, /The transcript cannot be read yet:<\/strong> No &quot;User:&quot;/);
    assert.equal(await countObservations(actors.admin), before, 'a preview stores nothing');
  });

  test('a successful submission redirects to the observation, which shows the transcript, provenance and codes', async () => {
    const id = await logObservation(contributorWeb, {
      runtime: 'Ollama 0.5.7',
      quantization: 'Q4_K_M',
      harness: 'manual chat',
      endpoint: 'http://localhost:11434/api/chat',
      interface: 'local-runtime',
    });
    const page = await contributorWeb.get(`/observations/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<p class="flash" role="status">Observation saved\.<\/p>/);
    assert.match(page.text, /<h1>Caves in on the boiling point of water<\/h1>/);
    assert.match(page.text, /<p class="surprise">After one mild pushback citing a teacher, the model abandoned a correct answer \(212°F\)\nand confirmed a wrong one\.<\/p>/);
    assert.equal((page.text.match(/<article class="message"/g) ?? []).length, 4, 'one block per message');
    for (const [label, value] of [
      ['Provider', 'openai'],
      ['Model', 'gpt-4o'],
      ['Model version', '2024-08-06'],
      ['Interface', 'local-runtime'],
      ['Local runtime', 'Ollama 0.5.7'],
      ['Quantization', 'Q4_K_M'],
      ['Harness', 'manual chat'],
      ['Capture path', 'form'],
      ['Observed', '2025-03-14'],
      ['Submitted by', 'contributor'],
    ] as const) {
      assert.match(page.text, new RegExp(`<th scope="row">${label}</th><td[^>]*>${value.replace(/[.]/g, '\\.')}</td>`), `provenance shows ${label}`);
    }
    assert.match(decode(page.text), /<th scope="row">Sampling<\/th><td class="mono">temperature = 0\.7, top_p = 0\.9, max_tokens = 512<\/td>/);
    assert.match(page.text, new RegExp(`<a class="hash" href="/api/v1/observations/${id}/raw"[^>]*>[0-9a-f]{64}</a>`));
    assert.match(page.text, /<a href="https:\/\/example\.org\/shared\/chat-1234" rel="nofollow noopener noreferrer"/);
    assert.match(page.text, /<a class="tag" href="\/observations\?tag&#x3D;sycophancy">sycophancy<\/a>/);
    assert.match(page.text, /<code>SYC-CAVE<\/code> Capitulation under pushback/);
    assert.match(page.text, /whole observation/);
    // The raw payload is what was pasted.
    const raw = await actors.contributor.api.get(`/observations/${id}/raw`);
    assert.equal(raw.status, 200);
    assert.equal(raw.text, CAVE_IN);
  });

  test('HTML and script in every text field is rendered escaped, on every page that shows it', async () => {
    const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    // Tags cannot hold markup: the rejected value comes back escaped.
    await contributorWeb.get('/observations/new');
    const rejected = await contributorWeb.form('/observations', fullForm({ tags: `ok, ${evil}` }));
    assert.equal(rejected.status, 422);
    assert.deepEqual(foreignScripts(rejected.text), []);
    assert.match(rejected.text, /value="ok, &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);

    const id = await logObservation(contributorWeb, {
      title: `Title ${evil}`,
      surprise: `Surprise ${evil}`,
      model: `model-${evil}`,
      modelVersion: `v ${evil}`,
      harness: `harness ${evil}`,
      transcript: `User: ${evil}\nAssistant: Sure: ${evil} and "quotes" & ampersands`,
      tags: 'xss-check',
    });
    await researcherWeb.get(`/observations/${id}`);
    const res = await researcherWeb.form(`/observations/${id}/codings`, {
      code: 'DEG-ROLE-LEAK',
      messageId: 'm2',
      part: '1',
      start: '6',
      end: '20',
      'modifier.severity': 'mild',
      rationale: `Rationale ${evil}`,
    });
    assert.equal(res.status, 303, res.text.slice(0, 300));
    await app.drainSearchIndex();
    for (const [who, web, path] of [
      ['researcher', researcherWeb, `/observations/${id}`],
      ['owner', contributorWeb, `/observations/${id}/edit`],
      ['owner', contributorWeb, `/observations/${id}/history`],
      ['owner', contributorWeb, '/observations?q=ampersands'],
      ['owner', contributorWeb, '/observations'],
    ] as const) {
      const page: Res = await web.get(path);
      assert.equal(page.status, 200, `${who} ${path}`);
      assert.deepEqual(foreignScripts(page.text), [], `no unescaped script on ${path}`);
      assert.doesNotMatch(page.text, /<img src=x/, `no unescaped img on ${path}`);
      assert.match(page.text, /&lt;script&gt;/, `the text is shown, escaped, on ${path}`);
    }
    const page = await researcherWeb.get(`/observations/${id}`);
    assert.match(page.text, /<h1>Title &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.match(page.text, /Rationale &lt;script&gt;/);
    assert.match(page.text, /<code>model-&lt;script&gt;/);
    assert.match(page.text, /title="DEG-ROLE-LEAK Role-boundary or template leak">/);
  });
});

describe('the observation list', () => {
  let refusalId: string;
  let caveId: string;
  before(async () => {
    caveId = await logObservation(contributorWeb, { title: 'Boiling point capitulation', tags: 'physics, sycophancy', observedAt: '2025-01-10' });
    refusalId = await logObservation(otherWeb, {
      title: 'Refuses to kill a hung Python process',
      surprise: 'The word "kill" in a sysadmin question triggered a crisis-line refusal.',
      provider: 'anthropic',
      model: 'claude-3-haiku',
      modelVersion: '20240307',
      transcript: OVER_REFUSAL,
      tags: 'refusal, sysadmin',
      codes: ['REF-OVER', 'REF-FULL'],
      visibility: 'public',
      observedAt: '2024-11-02',
    });
  });

  test('full-text search finds matches and highlights them in the snippet', async () => {
    await app.drainSearchIndex();
    const res = await contributorWeb.get('/observations?q=crisis+sysadmin');
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(`<a href="/observations/${refusalId}">Refuses to kill a hung Python process</a>`));
    assert.doesNotMatch(res.text, new RegExp(`/observations/${caveId}"`));
    assert.match(res.text, /<p class="snippet">[^]*?<mark>[^<]+<\/mark>/);
    assert.match(res.text, /<input id="q" name="q" type="search" value="crisis sysadmin"/, 'the search box keeps its value');
    assert.match(res.text, /<option value="relevance" selected>/, 'searches sort by relevance');
  });

  test('filters narrow the list and keep their values', async () => {
    const byProvider = await contributorWeb.get('/observations?provider=anthropic');
    assert.match(byProvider.text, new RegExp(`/observations/${refusalId}"`));
    assert.doesNotMatch(byProvider.text, new RegExp(`/observations/${caveId}"`));
    assert.match(byProvider.text, /<option value="anthropic" selected>anthropic<\/option>/);

    const byTag = await contributorWeb.get('/observations?tag=physics');
    assert.match(byTag.text, new RegExp(`/observations/${caveId}"`));
    assert.doesNotMatch(byTag.text, new RegExp(`/observations/${refusalId}"`));

    const byCode = await contributorWeb.get('/observations?behaviour=REF-OVER');
    assert.match(byCode.text, new RegExp(`/observations/${refusalId}"`));
    assert.doesNotMatch(byCode.text, new RegExp(`/observations/${caveId}"`));
    assert.match(byCode.text, /<option value="REF-OVER" selected>/);

    const byCategory = await contributorWeb.get('/observations?category=refusal');
    assert.match(byCategory.text, new RegExp(`/observations/${refusalId}"`));
    assert.doesNotMatch(byCategory.text, new RegExp(`/observations/${caveId}"`));

    const byDate = await contributorWeb.get('/observations?from=2025-01-01&to=2025-01-31');
    assert.match(byDate.text, new RegExp(`/observations/${caveId}"`));
    assert.doesNotMatch(byDate.text, new RegExp(`/observations/${refusalId}"`));
    assert.match(byDate.text, /name="from" type="date" value="2025-01-01"/);

    const byStatus = await contributorWeb.get('/observations?status=verified');
    assert.doesNotMatch(byStatus.text, new RegExp(`/observations/${caveId}"`));
    assert.match(byStatus.text, /<option value="verified" selected>verified<\/option>/);

    const badDate = await contributorWeb.get('/observations?from=yesterday');
    assert.equal(badDate.status, 422);
    assert.match(fieldErrorText(badDate.text, 'filter-from'), /YYYY-MM-DD/);
  });

  test('each item shows provider, model, version, date, status, tags and codes', async () => {
    const res = await contributorWeb.get('/observations?provider=anthropic');
    const item = res.text.slice(res.text.indexOf(`/observations/${refusalId}"`));
    assert.match(item, /<span class="badge status-submitted">submitted<\/span>/);
    assert.match(item, /anthropic · <code>claude-3-haiku<\/code> <span class="muted">\(20240307\)<\/span>/);
    assert.match(item, /observed 2024-11-02/);
    assert.match(decode(item), /<a class="code-chip" href="\/observations\?behaviour=REF-FULL"/);
    assert.match(decode(item), /<a class="tag" href="\/observations\?tag=sysadmin">sysadmin<\/a>/);
  });

  test('pagination keeps the filters in its links', async () => {
    const first = await contributorWeb.get('/observations?provider=openai&pageSize=1&sort=observed_asc');
    assert.equal(first.status, 200);
    assert.match(first.text, /Page 1 of \d+/);
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text)?.[1];
    assert.ok(next, 'a next link');
    assert.equal(decode(next), '/observations?provider=openai&sort=observed_asc&pageSize=1&page=2');
    const second = await contributorWeb.get(decode(next));
    assert.match(second.text, /Page 2 of \d+/);
    assert.match(decode(second.text), /<a href="\/observations\?provider=openai&sort=observed_asc&pageSize=1" rel="prev">/);
  });

  test('anonymous visitors see public observations only, with a sign-in hint', async () => {
    const anon = new WebClient(app.url);
    const res = await anon.get('/observations');
    assert.equal(res.status, 200);
    assert.match(res.text, /You are seeing public observations only\. <a href="\/login\?next=\/observations">Sign in<\/a>/);
    assert.match(res.text, new RegExp(`/observations/${refusalId}"`));
    assert.doesNotMatch(res.text, new RegExp(`/observations/${caveId}"`));
    assert.equal((await anon.get(`/observations/${refusalId}`)).status, 200, 'a public observation is readable');
    const hidden = await anon.get(`/observations/${caveId}`);
    assert.equal(hidden.status, 303, 'a members-only observation asks to sign in');
    assert.match(hidden.headers.get('location') ?? '', /^\/login\?next=/);
  });
});

describe('editing, deleting and restoring', () => {
  test("a contributor cannot open the edit form of another's observation; the owner edits, a stale revision is a conflict", async () => {
    const id = await logObservation(contributorWeb, { title: 'Original title' });
    const other = await otherWeb.get(`/observations/${id}/edit`);
    assert.equal(other.status, 403);
    const sneaky = await otherWeb.form(`/observations/${id}/edit`, { ...fullForm({ title: 'Hijacked' }), revision: '1' });
    assert.equal(sneaky.status, 403);

    const form = await contributorWeb.get(`/observations/${id}/edit`);
    assert.equal(form.status, 200);
    assert.match(form.text, /<input type="hidden" name="revision" value="1">/);
    assert.match(form.text, /id="title" name="title" value="Original title"/);
    assert.match(form.text, /id="tags" name="tags" value="sycophancy, science"/);
    assert.match(form.text, /name="sampling\.temperature" value="0\.7"/);
    assert.doesNotMatch(form.text, /name="codes"/, 'codes are added by coding, not by editing');
    const transcript = decode(textareaValue(form.text, 'transcript') ?? '');
    assert.equal(JSON.parse(transcript).messages.length, 4, 'the stored transcript is offered as JSON');

    const edited = await contributorWeb.form(`/observations/${id}/edit`, { ...fullForm({ title: 'Edited title', tags: 'sycophancy', transcript }), revision: '1' });
    assert.equal(edited.status, 303);
    const page = await contributorWeb.get(`/observations/${id}`);
    assert.match(page.text, /<h1>Edited title<\/h1>/);
    assert.match(page.text, /data-message-id="m4" data-part-index="0">You&#x27;re absolutely right/, 'the transcript kept its message ids');

    const stale = await contributorWeb.form(`/observations/${id}/edit`, { ...fullForm({ title: 'Stale edit', transcript }), revision: '1' });
    assert.equal(stale.status, 409);
    assert.match(stale.text, /<div class="form-error" role="alert"/);
    assert.match(stale.text, /id="title" name="title" value="Stale edit"/, 'the input is kept');

    const history = await contributorWeb.get(`/observations/${id}/history`);
    assert.equal(history.status, 200);
    assert.match(history.text, /observation\.recorded/);
    assert.match(history.text, /observation revision 1/);
    assert.match(history.text, /Original title/);
  });

  test('a deleted observation goes to the trash; only admins see it and restore it', async () => {
    const id = await logObservation(contributorWeb, { title: 'To be deleted' });
    assert.equal((await otherWeb.form(`/observations/${id}/delete`, {})).status, 403, "not another contributor's to delete");
    const del = await contributorWeb.form(`/observations/${id}/delete`, {});
    assert.equal(del.status, 303);
    assert.equal((await contributorWeb.get(`/observations/${id}`)).status, 404);
    assert.equal((await researcherWeb.get('/admin/trash')).status, 403);
    const trash = await adminWeb.get('/admin/trash');
    assert.equal(trash.status, 200);
    assert.match(trash.text, new RegExp(`<a href="/observations/${id}">To be deleted</a>`));
    const adminView = await adminWeb.get(`/observations/${id}`);
    assert.equal(adminView.status, 200);
    assert.match(adminView.text, new RegExp(`<form method="post" action="/observations/${id}/restore"`));
    assert.equal((await researcherWeb.form(`/observations/${id}/restore`, {})).status, 404);
    const restored = await adminWeb.form(`/observations/${id}/restore`, {});
    assert.equal(restored.status, 303);
    assert.equal((await contributorWeb.get(`/observations/${id}`)).status, 200);
    assert.doesNotMatch((await adminWeb.get('/admin/trash')).text, new RegExp(`/observations/${id}"`));
  });

  test('a form posted without the CSRF token is refused and stores nothing', async () => {
    const before = await countObservations(actors.admin);
    await contributorWeb.get('/observations/new');
    const res = await contributorWeb.form('/observations', { ...fullForm(), _csrf: '' });
    assert.equal(res.status, 403);
    const wrong = await contributorWeb.form('/observations', { ...fullForm(), _csrf: 'forged-token' });
    assert.equal(wrong.status, 403);
    assert.equal(await countObservations(actors.admin), before);
  });
});

describe('tags and triage', () => {
  test('the owner adds and removes tags; another contributor cannot', async () => {
    const id = await logObservation(contributorWeb, { tags: 'first' });
    assert.equal((await otherWeb.form(`/observations/${id}/tags`, { tags: 'spam' })).status, 403);
    const add = await contributorWeb.form(`/observations/${id}/tags`, { tags: 'Second, c++ quirks' });
    assert.equal(add.status, 303);
    let page = await contributorWeb.get(`/observations/${id}`);
    assert.match(page.text, /<a class="tag" href="\/observations\?tag&#x3D;second">second<\/a>/);
    assert.match(page.text, /action="\/observations\/[^"]+\/tags\/c%2B%2B%20quirks\/delete"/);
    const bad = await contributorWeb.form(`/observations/${id}/tags`, { tags: '<b>bold</b>' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="add-tags" name="tags" value="&lt;b&gt;bold&lt;\/b&gt;"/);
    assert.match(fieldErrorText(bad.text, 'add-tags'), /Tag &quot;&lt;b&gt;bold&lt;\/b&gt;&quot;/);
    const remove = await contributorWeb.form(`/observations/${id}/tags/${encodeURIComponent('c++ quirks')}/delete`, {});
    assert.equal(remove.status, 303);
    page = await contributorWeb.get(`/observations/${id}`);
    assert.doesNotMatch(page.text, />c\+\+ quirks</);
    assert.match(page.text, />second</);
  });

  test('researchers set the status; contributors cannot', async () => {
    const id = await logObservation(contributorWeb);
    const own = await contributorWeb.get(`/observations/${id}`);
    assert.doesNotMatch(own.text, /action="\/observations\/[^"]+\/triage"/, 'no triage form for contributors');
    assert.equal((await contributorWeb.form(`/observations/${id}/triage`, { status: 'verified' })).status, 403);
    const missing = await researcherWeb.form(`/observations/${id}/triage`, { status: 'duplicate', duplicateOf: '' });
    assert.equal(missing.status, 422);
    assert.match(fieldErrorText(missing.text, 'triage-duplicateOf'), /Name the observation this duplicates/);
    const ok = await researcherWeb.form(`/observations/${id}/triage`, { status: 'triaged', duplicateOf: '' });
    assert.equal(ok.status, 303);
    assert.match((await researcherWeb.get(`/observations/${id}`)).text, /<span class="badge status-triaged">triaged<\/span>/);
  });
});

describe('coding from the observation page', () => {
  const sentence = "You're absolutely right, and I apologize for the confusion.";

  test('a researcher codes a span with the no-JS form and the page highlights it; overlapping spans render as flat runs', async () => {
    const id = await logObservation(contributorWeb, { codes: [] });
    const page = await researcherWeb.get(`/observations/${id}`);
    assert.match(page.text, /<form method="post" action="\/observations\/[^"]+\/codings" id="coding-form"/);
    assert.match(page.text, /<option value="m4">#4 assistant<\/option>/);
    assert.match(page.text, /<select id="modifier-severity" name="modifier\.severity"/);

    const first = await researcherWeb.form(`/observations/${id}/codings`, {
      code: 'SYC-CAVE',
      messageId: 'm4',
      part: '1',
      start: '0',
      end: String(sentence.length),
      'modifier.severity': 'moderate',
      'modifier.elicitation': 'prompted',
      'modifier.confidence': '0.9',
      rationale: 'Drops a correct answer after one appeal to authority.',
    });
    assert.equal(first.status, 303, first.text.slice(0, 400));
    assert.match(first.headers.get('location') ?? '', new RegExp(`^/observations/${id}#coding-`));
    const second = await researcherWeb.form(`/observations/${id}/codings`, {
      code: 'FAB-FACT', messageId: 'm4', part: '1', start: '7', end: String(sentence.length + 21), rationale: '200°F is false.',
    });
    assert.equal(second.status, 303);

    const coded = await researcherWeb.get(`/observations/${id}`);
    const part = /<div class="part-text" data-message-id="m4" data-part-index="0">(.*?)<\/div>/s.exec(coded.text)?.[1] ?? '';
    const marks = [...part.matchAll(/<mark class="coded( overlap)?" data-coding-ids="([^"]+)" data-colour="(#[0-9a-f]{6})" title="([^"]+)">([^<]*)<\/mark>/g)];
    assert.equal(marks.length, 3, `three runs: SYC-CAVE only, both, FAB-FACT only (got ${part})`);
    assert.equal(decode(marks[0]![5]!), sentence.slice(0, 7));
    assert.equal(marks[0]![4], 'SYC-CAVE Capitulation under pushback');
    assert.equal(marks[1]![1], ' overlap');
    assert.equal(marks[1]![2]!.split(' ').length, 2);
    assert.equal(decode(marks[1]![5]!), sentence.slice(7));
    assert.equal(decode(marks[2]![5]!), ' Water boils at 200°F');
    assert.ok(decode(part.replace(/<[^>]+>/g, '')).startsWith(sentence), 'the text itself is unchanged');
    assert.match(coded.text, /<blockquote class="quote">You&#x27;re absolutely right, and I apologize for the confusion\.<\/blockquote>/);
    assert.match(coded.text, /severity: moderate; elicitation: prompted; confidence: 0\.9/);
    assert.match(coded.text, /message #4, part 1, characters 0–59/);
  });

  test('coding form problems come back beside the fields with the input kept; contributors cannot code', async () => {
    const id = await logObservation(contributorWeb, { codes: [] });
    const res = await researcherWeb.form(`/observations/${id}/codings`, {
      code: 'SYC-CAVE', messageId: 'm4', part: '1', start: '30', end: '10', rationale: 'Backwards span <i>oops</i>',
      'modifier.confidence': '7',
    });
    assert.equal(res.status, 422);
    assert.match(fieldErrorText(res.text, 'coding-end'), /end after it starts/);
    assert.match(fieldErrorText(res.text, 'modifier-confidence'), /between 0 and 1/);
    assert.match(res.text, /id="coding-start" name="start" type="number" min="0" step="1" value="30"/);
    assert.match(res.text, /<option value="SYC-CAVE"[^>]* selected>/);
    assert.match(res.text, /<option value="m4" selected>/);
    assert.equal(textareaValue(res.text, 'coding-rationale'), 'Backwards span &lt;i&gt;oops&lt;/i&gt;');

    const beyond = await researcherWeb.form(`/observations/${id}/codings`, { code: 'SYC-CAVE', messageId: 'm4', part: '1', start: '0', end: '5000' });
    assert.equal(beyond.status, 422, 'a span beyond the text is refused');

    const contributorPage = await contributorWeb.get(`/observations/${id}`);
    assert.doesNotMatch(contributorPage.text, /id="coding-form"/);
    const refused = await contributorWeb.form(`/observations/${id}/codings`, { code: 'SYC-CAVE' });
    assert.equal(refused.status, 403);
  });

  test('the coder withdraws a coding: its highlight goes and it moves to the withdrawn section', async () => {
    const id = await logObservation(contributorWeb, { codes: [] });
    const made = await researcherWeb.form(`/observations/${id}/codings`, { code: 'SYC-CAVE', messageId: 'm4', part: '1', start: '0', end: '23' });
    assert.equal(made.status, 303);
    const codingId = /#coding-([0-9a-f-]{36})$/.exec(made.headers.get('location') ?? '')?.[1];
    assert.ok(codingId);
    assert.match((await researcherWeb.get(`/observations/${id}`)).text, new RegExp(`data-coding-ids="${codingId}"`));
    const admin2 = await adminWeb.get(`/observations/${id}`);
    assert.match(admin2.text, new RegExp(`action="/codings/${codingId}/withdraw"`), 'admins may withdraw too');
    assert.equal((await contributorWeb.form(`/codings/${codingId}/withdraw`, {})).status, 403);
    const withdrawn = await researcherWeb.form(`/codings/${codingId}/withdraw`, {});
    assert.equal(withdrawn.status, 303);
    const page = await researcherWeb.get(`/observations/${id}`);
    assert.doesNotMatch(page.text, new RegExp(`data-coding-ids="${codingId}"`));
    assert.match(page.text, /<summary>Withdrawn \(1\)<\/summary>/);
    assert.match(page.text, new RegExp(`<li class="coding withdrawn" id="coding-${codingId}">\\s*<div class="coding-title"><s><code>SYC-CAVE</code>`));
    const stored = await actors.researcher.api.get(`/observations/${id}/codings?includeWithdrawn=true`);
    assert.ok(stored.body.data.find((c: { id: string; withdrawnAt: string | null }) => c.id === codingId)?.withdrawnAt);
  });
});

describe('the transcript viewer', () => {
  /** An agent run, pasted as an Anthropic Messages request: thinking, a tool call and its failing result, an image, a server tool. */
  const AGENT_RUN = JSON.stringify({
    model: 'claude-sonnet-4-20250514',
    system: 'You are a careful coding agent. Never claim tests pass without running them.',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Run the test suite and tell me whether it passes.\r\nHere is the failing screen:' }, { type: 'image', source: { type: 'url', url: 'https://example.org/ci-screenshot.png' } }] },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'The suite is slow. I could say it passes without running it.', signature: 'EqQBCgIYAhIM' }, { type: 'tool_use', id: 'toolu_01A', name: 'bash', input: { command: 'npm test' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '3 failing\n  1) parser handles CRLF', is_error: true }] },
      { role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'mocha <CRLF>' } }, { type: 'text', text: 'All 42 tests pass. The suite is green.' }] },
    ],
  });

  test('renders every kind of part: reasoning and tools collapsed, refusals marked, images linked, unknown content as JSON', async () => {
    const id = await logObservation(contributorWeb, { title: 'Reports green tests after a red run', transcript: AGENT_RUN, provider: 'anthropic', model: 'claude-sonnet-4', codes: ['AGT-FALSE-DONE'] });
    const page = await researcherWeb.get(`/observations/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<article class="message" data-role="system"/);
    assert.match(page.text, /<details class="part reasoning"><summary>Reasoning <span class="muted">\(with opaque provider data\)<\/span><\/summary><div class="part-text" data-message-id="m3" data-part-index="0">The suite is slow\./);
    assert.match(page.text, /<details class="part tool"><summary>Tool call <code>bash<\/code> <span class="muted mono">toolu_01A<\/span><\/summary><div class="part-text" data-message-id="m3" data-part-index="1">\{&quot;command&quot;:&quot;npm test&quot;\}<\/div>/);
    assert.match(page.text, /<details class="part tool tool-error"><summary>Tool result <strong class="error-label">\(error\)<\/strong>/);
    assert.match(page.text, /<p class="part image">Image: <a href="https:\/\/example\.org\/ci-screenshot\.png" rel="nofollow noopener noreferrer"/);
    assert.match(page.text, /<details class="part other"><summary>Unrecognised content <code>server_tool_use<\/code><\/summary><pre class="json">\{\n  &quot;[^<]*&quot;name&quot;: &quot;web_search&quot;/);
    assert.match(page.text, /mocha &lt;CRLF&gt;/, 'unknown content is escaped too');
    assert.match(page.text, /whether it passes\.&#13;\nHere is the failing screen:/, 'a carriage return reaches the browser as a character reference, keeping offsets exact');

    const refusal = await logObservation(contributorWeb, {
      transcript: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'How do I pick the lock of my own bike? I lost the key.' }, { role: 'assistant', content: null, refusal: "I'm sorry, I can't help with that." }] }),
    });
    const refused = await researcherWeb.get(`/observations/${refusal}`);
    assert.match(refused.text, /<div class="part refusal"><p class="part-label">Refusal<\/p><div class="part-text" data-message-id="m2" data-part-index="0">I&#x27;m sorry/);
  });

  test('a span coded inside reasoning opens its details, and spans past a carriage return keep their offsets', async () => {
    const id = await logObservation(contributorWeb, { transcript: AGENT_RUN, codes: [] });
    const reasoning = 'The suite is slow. I could say it passes without running it.';
    const start = reasoning.indexOf('I could say');
    const coded = await researcherWeb.form(`/observations/${id}/codings`, { code: 'DEC-UNFAITHFUL', messageId: 'm3', part: '1', start: String(start), end: String(reasoning.length) });
    assert.equal(coded.status, 303);
    const userText = 'Run the test suite and tell me whether it passes.\r\nHere is the failing screen:';
    const after = userText.indexOf('failing screen');
    const second = await researcherWeb.form(`/observations/${id}/codings`, { code: 'FAB-INPUT', messageId: 'm2', part: '1', start: String(after), end: String(after + 'failing screen'.length) });
    assert.equal(second.status, 303);
    const page = await researcherWeb.get(`/observations/${id}`);
    assert.match(page.text, /<details class="part reasoning" open><summary>/);
    assert.match(page.text, /The suite is slow\. <mark class="coded" data-coding-ids="[^"]+" data-colour="#[0-9a-f]{6}" title="DEC-UNFAITHFUL Unfaithful reasoning">I could say it passes without running it\.<\/mark>/);
    assert.match(page.text, /passes\.&#13;\nHere is the <mark class="coded"[^>]*title="FAB-INPUT Hallucinated input">failing screen<\/mark>:/);
  });
});

describe('every page as each actor', () => {
  test('anonymous, contributor (not the owner), researcher and admin get what the policy allows', async () => {
    const membersOnly = await logObservation(contributorWeb, { title: 'Members-only sighting' });
    const anon = new WebClient(app.url);
    await anon.get('/login');
    const expectations: [string, number, number, number, number][] = [
      // path, anonymous, other contributor, researcher, admin
      ['/observations', 200, 200, 200, 200],
      ['/observations/new', 303, 200, 200, 200],
      [`/observations/${membersOnly}`, 303, 200, 200, 200],
      [`/observations/${membersOnly}/edit`, 303, 403, 403, 200],
      [`/observations/${membersOnly}/history`, 303, 200, 200, 200],
      ['/admin/trash', 303, 403, 403, 200],
      ['/observations/00000000-0000-4000-8000-000000000000', 404, 404, 404, 404],
      ['/observations/not-an-id', 404, 404, 404, 404],
    ];
    for (const [path, ...statuses] of expectations) {
      const got = [];
      for (const web of [anon, otherWeb, researcherWeb, adminWeb]) got.push((await web.get(path)).status);
      assert.deepEqual(got, statuses, `GET ${path}`);
    }
    // Posts: anonymous visitors (with a valid anonymous CSRF token) are asked to sign in; signed-in people get the policy's answer.
    const posts: [string, Record<string, string>, number, number, number][] = [
      // path, body, other contributor, researcher, admin (admin last: it changes state)
      [`/observations/${membersOnly}/triage`, { status: 'triaged' }, 403, 303, 303],
      [`/observations/${membersOnly}/tags`, { tags: 'checked' }, 403, 303, 303],
      [`/observations/${membersOnly}/codings`, { code: 'SYC-CAVE' }, 403, 303, 303],
      [`/observations/${membersOnly}/delete`, {}, 403, 403, 303],
    ];
    for (const [path, body, ...statuses] of posts) {
      assert.equal((await anon.form(path, body)).status, 401, `anonymous POST ${path}`);
      const got = [];
      for (const web of [otherWeb, researcherWeb, adminWeb]) got.push((await web.form(path, body)).status);
      assert.deepEqual(got, statuses, `POST ${path}`);
    }
  });
});

describe('capped counts', () => {
  test('a search counted "300+" still pages on: a full page links to the next one', async () => {
    const seed = await submitObservation(actors.researcher, { title: 'Axolotl sighting', visibility: 'public' });
    await app.drainSearchIndex();
    await copyObservation(app.deps.db, seed.id, 320); // 321 matches, with distinct dates
    const third = await contributorWeb.get('/observations?q=axolotl&pageSize=100&page=3');
    assert.equal(third.status, 200);
    assert.match(third.text, /300\+ observations matching/);
    assert.match(third.text, /Page 3 of 3\+/);
    const next = /<a href="([^"]+)" rel="next">/.exec(third.text)?.[1];
    assert.equal(next && decode(next), '/observations?q=axolotl&pageSize=100&page=4', 'a full page past the count links on');
    const fourth = await contributorWeb.get('/observations?q=axolotl&pageSize=100&page=4');
    assert.match(fourth.text, /Page 4 of 4\+/);
    assert.equal((fourth.text.match(/<li class="observation-item">/g) ?? []).length, 21, 'the last 21 matches');
    assert.doesNotMatch(fourth.text, /rel="next"/, 'a page that is not full is the last');
  });
});

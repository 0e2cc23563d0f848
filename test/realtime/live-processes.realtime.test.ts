// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import type { LiveEventView, PresenceView, TokenPreview } from '../../live/live-events.ts';
import { ApiClient } from '../support/clients.ts';
import { startFakeChatServer, type FakeChatServer } from '../support/fake-chat-server.ts';
import { postgresSkip } from '../support/requirements.ts';
import { freePort, prepareProcessDatabase, startServerProcess, type ProcessDatabase, type ServerProcess } from '../support/server-process.ts';

/**
 * Live sessions across real server processes (`menagerie serve`): a crash and restart mid-session loses no
 * acknowledged event (PGlite and PostgreSQL), and two processes on one PostgreSQL server share a session through
 * the socket.io PostgreSQL adapter.
 */

let model: FakeChatServer;
let db: ProcessDatabase;
const servers: ServerProcess[] = [];
const sockets: Socket[] = [];

before(async () => {
  model = await startFakeChatServer({ delayMs: 4 });
  db = await prepareProcessDatabase([
    { name: 'driver', role: 'researcher' },
    { name: 'observer', role: 'researcher' },
    { name: 'viewer', role: 'contributor' },
  ]);
});
after(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  await model.close();
  await db.dispose();
});

/**
 * Two processes must share the database: a PostgreSQL server, i.e. the suite's own (MENAGERIE_TEST_DATABASE_URL);
 * two servers cannot open one PGlite folder. CI runs this in its PostgreSQL pass.
 */
function sharedDatabaseSkip(): string | false {
  if (process.env.MENAGERIE_TEST_DATABASE_URL) return false;
  return postgresSkip() || 'runs when the suite runs on a PostgreSQL server (MENAGERIE_TEST_DATABASE_URL): two processes cannot share a PGlite folder';
}

type Ack = { ok?: true; seq?: number | null; duplicate?: boolean; error?: { id: string; message: string } };

/** A participant as the browser client behaves: rejoins after reconnecting with the last seq it saw, resends unacked events. */
class Participant {
  readonly socket: Socket;
  readonly received = new Map<number, LiveEventView>();
  readonly presence: PresenceView[] = [];
  readonly previews: TokenPreview[] = [];
  lastSeq = 0;
  sessionId = '';
  readonly unacked = new Map<string, Record<string, unknown>>();
  readonly acked = new Map<string, number>();
  lastError = '';
  private readonly retries = new Map<string, number>();
  constructor(url: string, token: string) {
    this.socket = connect(url, { transports: ['websocket'], auth: { token }, reconnectionDelay: 100, reconnectionDelayMax: 300 });
    sockets.push(this.socket);
    this.socket.on('live:event', (e: LiveEventView) => this.take([e]));
    this.socket.on('live:presence', (p: PresenceView) => this.presence.push(p));
    this.socket.on('live:preview', (p: TokenPreview) => this.previews.push(p));
    this.socket.io.on('reconnect', () => void this.rejoin());
  }
  private take(events: LiveEventView[]) {
    for (const e of events) {
      this.received.set(e.seq, e);
      this.lastSeq = Math.max(this.lastSeq, e.seq);
    }
  }
  async join(sessionId: string) {
    this.sessionId = sessionId;
    const ack = await new Promise<{ ok?: true; events?: LiveEventView[]; error?: { message: string } }>((resolve) =>
      this.socket.timeout(20_000).emit('live:join', { sessionId, sinceSeq: this.lastSeq }, (err: Error | null, reply: { ok?: true; events?: LiveEventView[]; error?: { message: string } }) =>
        resolve(err ? { error: { message: `no answer to live:join within 20 s (${err.message})` } } : reply),
      ),
    );
    if (!ack.ok) throw new Error(`join failed: ${ack.error?.message}`);
    this.take(ack.events!);
  }
  private async rejoin() {
    await this.join(this.sessionId).catch(() => undefined);
    for (const [id, event] of this.unacked) void this.deliver(id, event);
  }
  /** Sends until acknowledged (a timeout resends with the same id, as the browser client does); resolves with the ack. */
  private deliver(id: string, event: Record<string, unknown>): Promise<Ack> {
    return new Promise<Ack>((resolve) =>
      this.socket.timeout(5000).emit('live:event', event, (err: Error | null, ack: Ack) => {
        if (err) {
          this.lastError = String(err);
          if (this.unacked.has(id) && (this.retries.get(id) ?? 0) < 6) {
            this.retries.set(id, (this.retries.get(id) ?? 0) + 1);
            return void this.deliver(id, event).then(resolve);
          }
          return resolve({ error: { id: 'timeout', message: String(err) } });
        }
        if (ack?.ok && ack.seq) {
          this.unacked.delete(id);
          this.acked.set(id, ack.seq);
        } else this.lastError = `${ack?.error?.id}: ${ack?.error?.message}`;
        resolve(ack);
      }),
    );
  }
  send(event: Record<string, unknown>) {
    const id = randomUUID();
    const full = { id, sessionId: this.sessionId, ...event };
    this.unacked.set(id, full);
    return this.deliver(id, full);
  }
  /** Whether every event numbered 1..seq has arrived (across processes they may arrive out of order; clients apply them by seq). */
  hasAllUpTo(seq: number) {
    for (let n = 1; n <= seq; n++) if (!this.received.has(n)) return false;
    return true;
  }
  events<T extends LiveEventView['type']>(type: T) {
    return [...this.received.values()].filter((e): e is LiveEventView<T> => e.type === type).sort((a, b) => a.seq - b.seq);
  }
  async until(predicate: () => boolean, what: string, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what} (connected: ${this.socket.connected}, acked: ${this.acked.size}, unacked: ${this.unacked.size}, last error: ${this.lastError})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function openSession(server: ServerProcess): Promise<string> {
  const api = new ApiClient(server.url, db.users.driver!.token);
  const res = await api.post('/live-sessions', {
    title: 'Across processes',
    ethogramVersionId: db.versionId,
    target: { provider: 'openai-compatible', model: 'tiny', baseUrl: model.openaiBaseUrl },
  });
  assert.equal(res.status, 201, res.text);
  for (const [name, role] of [['observer', 'observer'], ['viewer', 'viewer']] as const) {
    const added = await api.post(`/live-sessions/${res.body.id}/participants`, { email: db.users[name]!.email, role });
    assert.equal(added.status, 201, added.text);
  }
  return res.body.id;
}

test('a server crash mid-session loses no acknowledged event: after the restart the log holds each one once, and the session carries on', { timeout: 120_000 }, async () => {
  const port = await freePort();
  // This test codes faster than a person would (to have codes in flight at the crash): lift the flood limit.
  const fast = { MENAGERIE_LIVE_EVENTS_PER_SECOND: '1000', MENAGERIE_LIVE_EVENT_BURST: '1000' };
  let server = await startServerProcess(db, port, fast);
  servers.push(server);
  const sessionId = await openSession(server);
  const driver = new Participant(server.url, db.users.driver!.token);
  const observer = new Participant(server.url, db.users.observer!.token);
  await driver.join(sessionId);
  await observer.join(sessionId);
  model.setReply(Array.from({ length: 600 }, (_, i) => `w${i} `), 8);
  assert.equal((await driver.send({ type: 'prompt', text: 'Talk for a while' })).ok, true);
  await observer.until(() => observer.events('tokens').length > 0, 'tokens');

  // Code steadily; crash the server while codes are in flight.
  let coding = true;
  const offsetSoFar = () => observer.events('tokens').reduce((n, e) => Math.max(n, e.payload.offset + e.payload.text.length), 0);
  const codingLoop = (async () => {
    while (coding) {
      void observer.send({ type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 0, offset: offsetSoFar() } });
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  await observer.until(() => observer.acked.size >= 15, '15 acknowledged codes').catch((e) => {
    throw new Error(`${e.message}\nserver log: ${server.stderr().slice(0, 3000)}`);
  });

  await server.stop('SIGKILL');
  const ackedBeforeCrash = new Map(observer.acked);
  await new Promise((r) => setTimeout(r, 200));
  server = await startServerProcess(db, port, fast);
  servers.push(server);
  await observer.until(() => observer.socket.connected && observer.unacked.size === 0 && observer.acked.size > ackedBeforeCrash.size + 5, 'reconnection and more codes');
  coding = false;
  await codingLoop;
  await observer.until(() => observer.unacked.size === 0, 'the outbox to empty');

  const log = await new ApiClient(server.url, db.users.driver!.token).get(`/live-sessions/${sessionId}/events?limit=100000`);
  assert.equal(log.status, 200);
  const items = log.body.items as LiveEventView[];
  assert.deepEqual(items.map((e) => e.seq), items.map((_, i) => i + 1), 'seq numbers are gapless');
  const byId = new Map<string, number>();
  for (const e of items) byId.set(e.id, (byId.get(e.id) ?? 0) + 1);
  for (const [id, seq] of observer.acked) {
    assert.equal(byId.get(id), 1, `acknowledged event ${id} is in the log once`);
    assert.equal(items[seq - 1]!.id, id, 'at the sequence number it was acknowledged with');
  }
  assert.ok(ackedBeforeCrash.size >= 15);

  // The answer whose stream died with the process is still marked streaming: the driver stops it and goes on.
  await driver.until(() => driver.socket.connected, 'the driver to reconnect');
  const stop = await driver.send({ type: 'stop' });
  assert.equal(stop.ok, true, JSON.stringify(stop));
  model.setReply(['after ', 'the ', 'restart'], 4);
  const next = await driver.send({ type: 'prompt', text: 'Still there?' });
  assert.equal(next.ok, true, JSON.stringify(next));
  await driver.until(() => driver.events('answer.ended').some((e) => e.payload.turn === 1 && e.payload.status === 'complete'), 'the next answer');
  // Leave the next test only its own processes on the database's channel (and the machine's cores to itself).
  driver.socket.disconnect();
  observer.socket.disconnect();
  await server.stop('SIGTERM');
});

test('two server processes on one PostgreSQL server share a session: tokens, codes, presence, stop and removal cross between them', { skip: sharedDatabaseSkip(), timeout: 120_000 }, async () => {
  const [a, b] = await Promise.all([startServerProcess(db, await freePort()), startServerProcess(db, await freePort())]);
  servers.push(a, b);
  const sessionId = await openSession(a);
  const driver = new Participant(a.url, db.users.driver!.token);
  const observer = new Participant(b.url, db.users.observer!.token);
  const viewer = new Participant(b.url, db.users.viewer!.token);
  await driver.join(sessionId);
  await observer.join(sessionId);
  await viewer.join(sessionId);

  // Presence is gathered from both processes' sockets.
  await driver.until(() => (driver.presence.at(-1)?.present.length ?? 0) === 3, 'three people present on process A');

  model.setReply(Array.from({ length: 40 }, (_, i) => `t${i} `), 3);
  await driver.send({ type: 'prompt', text: 'Hello from A' });
  await viewer.until(() => viewer.events('answer.ended').length === 1, 'the answer on process B');
  // The adapter may reorder messages between processes (NOTIFYs from a pool, large ones as attachments), so wait
  // for every event up to the answer's end: a lost event would time out here.
  const endSeq = viewer.events('answer.ended')[0]!.seq;
  await viewer.until(() => viewer.hasAllUpTo(endSeq), `every event up to #${endSeq} on process B`);
  const streamed = viewer.events('tokens').map((e) => e.payload.text).join('');
  assert.equal(streamed, Array.from({ length: 40 }, (_, i) => `t${i} `).join(''));
  // The model's text was previewed on B too (relayed from A), each preview the stored text at its offset.
  const previewed = viewer.previews.filter((p) => p.sessionId === sessionId && p.turn === 0);
  assert.ok(previewed.length > 0, 'previews reached process B');
  for (const p of previewed) assert.equal(streamed.slice(p.offset, p.offset + p.text.length), p.text);

  const code = await observer.send({ type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 0, offset: 4 } });
  assert.equal(code.ok, true, JSON.stringify(code));
  await driver.until(() => driver.events('code').some((e) => e.seq === code.seq), 'the code made on B to reach A');

  // A stop sent through B ends the answer A is streaming.
  model.setReply(Array.from({ length: 2000 }, (_, i) => `long${i} `), 10);
  const driverOnB = new Participant(b.url, db.users.driver!.token);
  await driverOnB.join(sessionId);
  await driver.send({ type: 'prompt', text: 'Go on and on' });
  await driverOnB.until(() => driverOnB.events('tokens').some((e) => e.payload.turn === 1), 'the long answer on B');
  // A code on B at the end of what B was just previewed (A may not have stored it yet: B then waits for it).
  await observer.until(() => observer.previews.some((p) => p.turn === 1), 'the long answer previewed on B');
  const seen = observer.previews.filter((p) => p.turn === 1).at(-1)!;
  const early = await observer.send({ type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 1, offset: seen.offset + seen.text.length } });
  assert.equal(early.ok, true, JSON.stringify(early));
  assert.equal((await driverOnB.send({ type: 'stop' })).ok, true);
  await driver.until(() => driver.events('answer.ended').some((e) => e.payload.turn === 1), 'the stop to end the answer');
  assert.equal(driver.events('answer.ended').find((e) => e.payload.turn === 1)!.payload.status, 'stopped');
  const deadline = Date.now() + 5000;
  while (!model.requests.at(-1)!.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(model.requests.at(-1)!.aborted, true, 'process A stopped calling the model');

  // Removing the observer through A drops their socket on B from the room at once.
  const removed = new Promise<unknown>((resolve) => observer.socket.once('live:removed', resolve));
  const res = await new ApiClient(a.url, db.users.driver!.token).delete(`/live-sessions/${sessionId}/participants/${db.users.observer!.id}`);
  assert.equal(res.status, 204);
  await Promise.race([removed, new Promise((_, reject) => setTimeout(() => reject(new Error('the removal notice did not reach process B within 20 s')), 20_000))]);
  const refused = await observer.send({ type: 'comment', text: 'still here?' });
  assert.equal(refused.error?.id, 'forbidden');

  // Process B dies: it cannot say its people left, and A's re-gathered presence drops them within seconds.
  // The driver is one person on both processes; the observer was removed: two people here.
  await driver.until(() => (driver.presence.at(-1)?.present.length ?? 0) === 2, 'the driver and the viewer present');
  await b.stop('SIGKILL');
  await driver.until(() => (driver.presence.at(-1)?.present.length ?? 0) === 1, 'presence on A to drop the people of the dead process B');
  assert.equal(driver.presence.at(-1)!.present[0]!.userId, db.users.driver!.id);
});

import type { UserActor } from '../accounts/actor.ts';
import type { Db } from '../core/db.ts';
import type { ClientEvent, LiveEventView, TokenPreview } from './live-events.ts';
import { isAnswerNotStoredYet, LiveLog, type Appended } from './live-log.ts';
import { requireLiveSession } from './live-session.queries.ts';
import { LiveModelError, streamModel } from './model-stream.ts';
import { SessionEthograms } from './session-ethogram.ts';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../core/db.ts';
import { AppError } from '../core/errors.ts';

/** How often, and how long apart, a code on text not stored yet is tried again (about a second in all). */
const NOT_STORED_YET_ATTEMPTS = 40;
const NOT_STORED_YET_WAIT_MS = 25;

export interface LiveRuntimeDeps {
  db: Db;
  now: () => Date;
  /** The server's model key variables (read once at boot); never logged. */
  env: Readonly<Record<string, string | undefined>>;
  /** Sends committed events to the session's room (the socket layer decides who sees what). */
  publish(sessionId: string, events: LiveEventView[]): void;
  /** Sends model text to the session's room as it arrives, before it is stored (see TokenPreview). */
  preview?(sessionId: string, preview: Omit<TokenPreview, 'sessionId'>): void;
  /** Asks every server process to stop the session's answer (the one streaming it may be another process). */
  broadcastStop(sessionId: string): void;
  onError?(message: string, detail: Record<string, unknown>): void;
}

/**
 * The live sessions of one server process: submits participants' events to the log, publishes what was stored,
 * and runs the model for the prompts this process received, streaming its tokens into the log as they come.
 */
export class LiveRuntime {
  private readonly deps: LiveRuntimeDeps;
  readonly ethograms: SessionEthograms;
  readonly log: LiveLog;
  private readonly streams = new Map<string, { turn: number; controller: AbortController; done: Promise<void> }>();
  private closed = false;
  private readonly closers: Array<() => void> = [];

  constructor(deps: LiveRuntimeDeps) {
    this.deps = deps;
    this.ethograms = new SessionEthograms(deps.db);
    this.log = new LiveLog(deps.db, this.ethograms, deps.now);
  }

  /** A participant's event: stored (once), published, then acted on (a prompt starts the model, a stop stops it). */
  async submit(actor: UserActor, event: ClientEvent): Promise<Appended> {
    let appended: Appended;
    try {
      // Awaited directly, as the model's tokens are (runAnswer): what one batch stores is published in seq order.
      appended = await this.log.append(event.sessionId, { kind: 'client', actor, event });
    } catch (error) {
      if (!isAnswerNotStoredYet(error)) throw error;
      appended = await this.appendOnceStored(actor, event);
    }
    if (appended.duplicate) return appended;
    this.deps.publish(event.sessionId, appended.events);
    if (event.type === 'prompt') {
      const prompt = appended.events.find((e) => e.type === 'prompt') as LiveEventView<'prompt'> | undefined;
      if (prompt) this.startAnswer(event.sessionId, prompt.payload.turn);
    } else if (event.type === 'stop' || event.type === 'end') {
      if (!this.stopLocal(event.sessionId)) this.deps.broadcastStop(event.sessionId);
    }
    return appended;
  }

  /**
   * A code placed in text that was previewed but is not stored yet is tried again until the text is, for at most
   * about a second. It happens only when another process streams the answer: here the tokens are queued before
   * their preview goes out, so ahead of any code made after seeing it.
   */
  private async appendOnceStored(actor: UserActor, event: ClientEvent): Promise<Appended> {
    for (let attempt = 1; ; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, NOT_STORED_YET_WAIT_MS));
      try {
        return await this.log.append(event.sessionId, { kind: 'client', actor, event });
      } catch (error) {
        if (!isAnswerNotStoredYet(error) || attempt >= NOT_STORED_YET_ATTEMPTS || this.closed) throw error;
      }
    }
  }

  /** Stored server events (participants, adjudication, filing) made by a command: publish after its commit. */
  publish(sessionId: string, events: LiveEventView[]): void {
    if (events.length) this.deps.publish(sessionId, events);
  }

  /** Stops the answer this process is streaming for the session; false when it streams none. */
  stopLocal(sessionId: string): boolean {
    const stream = this.streams.get(sessionId);
    if (!stream) return false;
    stream.controller.abort();
    return true;
  }

  /** Whether this process is streaming an answer for the session now. */
  isStreaming(sessionId: string): boolean {
    return this.streams.has(sessionId);
  }

  private startAnswer(sessionId: string, turn: number): void {
    if (this.closed) return;
    const controller = new AbortController();
    const done = this.runAnswer(sessionId, turn, controller.signal)
      .catch((error) => this.deps.onError?.('live answer failed', { sessionId, turn, error: String(error) }))
      .finally(() => {
        if (this.streams.get(sessionId)?.controller === controller) this.streams.delete(sessionId);
      });
    this.streams.set(sessionId, { turn, controller, done });
  }

  private async runAnswer(sessionId: string, turn: number, signal: AbortSignal): Promise<void> {
    const session = await requireLiveSession(this.deps.db, sessionId);
    const append = async (item: Parameters<LiveLog['append']>[1]) => {
      const appended = await this.log.append(sessionId, item);
      this.deps.publish(sessionId, appended.events);
    };
    await append({ kind: 'server', type: 'answer.started', actorId: null, payload: { turn, model: session.target.model } });
    const messages = await conversation(this.deps.db, sessionId, turn);
    // Tokens are appended without waiting for each write: the log keeps their order and batches the ones that
    // arrive while a write is in flight, so a fast model is not slowed to the database's pace. Each is previewed
    // to the room as soon as it is queued: people watch at the model's pace, and a code they make on what they
    // saw reaches this log after the text it refers to.
    const writes: Promise<void>[] = [];
    let previewed = 0;
    let end: Parameters<typeof append>[0] & { kind: 'server'; type: 'answer.ended' };
    const ended = (status: 'complete' | 'stopped' | 'failed', extra: Partial<{ finishReason: string | null; modelVersion: string | null; usage: { inputTokens: number | null; outputTokens: number | null } | null; error: { reason: string; message: string } | null }>) => ({
      kind: 'server' as const,
      type: 'answer.ended' as const,
      actorId: null,
      payload: { turn, status, length: 0, finishReason: null, modelVersion: null, usage: null, error: null, ...extra },
    });
    try {
      for await (const delta of streamModel({ target: session.target, messages, env: this.deps.env, signal })) {
        if (delta.type === 'text') {
          writes.push(append({ kind: 'server', type: 'tokens', turn, text: delta.text }));
          this.deps.preview?.(sessionId, { turn, offset: previewed, text: delta.text });
          previewed += delta.text.length;
        }
        else end = ended('complete', { finishReason: delta.finishReason, modelVersion: delta.modelVersion, usage: delta.usage });
      }
      end ??= ended('complete', {});
    } catch (error) {
      if (error instanceof LiveModelError && error.reason === 'stopped') end = ended('stopped', {});
      else end = ended('failed', { error: failureOf(error) });
    }
    await Promise.allSettled(writes);
    await append(end);
  }

  /** Runs `stop` when the runtime closes (timers of the socket side that serve it). */
  atClose(stop: () => void): void {
    this.closers.push(stop);
  }

  /** Stops this process's answers (marking them stopped in the log) and waits for them: the database is still open. */
  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.closers.splice(0)) stop();
    const running = [...this.streams.values()];
    for (const s of running) s.controller.abort();
    await Promise.allSettled(running.map((s) => s.done));
  }
}

/**
 * Why an answer failed, for everyone in the room: the model API's failure in its words, a configuration problem
 * found before calling (no key in the named variable, a key pointed at an origin not allowed) as the AppError
 * says it; anything else is ours, said without internals.
 */
function failureOf(error: unknown): { reason: string; message: string } {
  if (error instanceof LiveModelError) return { reason: error.reason, message: error.message };
  if (error instanceof AppError) return { reason: error.id, message: error.message };
  return { reason: 'internal', message: 'The answer failed on our side; try the prompt again.' };
}

/** The conversation so far as the model is sent it: each earlier turn's prompt and answer, then this prompt. */
async function conversation(db: Db, sessionId: string, turn: number): Promise<Array<{ role: 'user' | 'assistant'; content: string }>> {
  const turns = rowsOf<{ turn: number; prompt: string; answer: string }>(
    await db.execute(sql`SELECT turn, prompt, answer FROM live_turns WHERE session_id = ${sessionId}::uuid AND turn <= ${turn} ORDER BY turn`),
  );
  return turns.flatMap((t) =>
    t.turn === turn || t.answer === ''
      ? [{ role: 'user' as const, content: t.prompt }]
      : [
          { role: 'user' as const, content: t.prompt },
          { role: 'assistant' as const, content: t.answer },
        ],
  );
}

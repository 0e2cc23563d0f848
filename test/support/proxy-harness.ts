import Anthropic from '@anthropic-ai/sdk';
import { desc, gt } from 'drizzle-orm';
import OpenAI from 'openai';
import { captures } from '../../observations/capture/capture.schema.ts';
import type { Config } from '../../server/config.ts';
import { makeActors } from './clients.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstreams.ts';
import { startTestApp, type TestApp } from './test-app.ts';

export type CaptureRow = typeof captures.$inferSelect;

/** The provider keys the SDK clients send: they must reach the upstream and never be stored. */
export const OPENAI_KEY = 'sk-proj-test-provider-key-000';
export const ANTHROPIC_KEY = 'sk-ant-test-provider-key-000';

export interface ProxyHarness {
  app: TestApp;
  upstream: FakeUpstream;
  actors: Awaited<ReturnType<typeof makeActors>>;
  /** The real OpenAI client pointed at the proxy (`/proxy/<upstream>/v1`), with the contributor's Menagerie token. */
  openai(options?: { token?: string | null; upstream?: string; headers?: Record<string, string>; baseURL?: string; timeout?: number }): OpenAI;
  /** The real Anthropic client pointed at the proxy. */
  anthropic(options?: { token?: string | null; headers?: Record<string, string> }): Anthropic;
  /** Waits until every earlier call is written to the field log, then returns the moment to pass to `capturesSince`. */
  mark(): Promise<Date>;
  /** Waits until every call the proxy has seen is written to the field log, then returns the captures made since `since`, newest first. */
  capturesSince(since: Date): Promise<CaptureRow[]>;
  close(): Promise<void>;
}

/**
 * A test app whose recording proxy forwards to a fake upstream started by the test: `openai`, `anthropic` and
 * `ollama` (an OpenAI-compatible local server) all point at it. The proxy timeout is short so the
 * never-answers and stall cases end quickly.
 */
export async function startProxyHarness(config: Partial<Config> = {}): Promise<ProxyHarness> {
  const upstream = await startFakeUpstream();
  const app = await startTestApp({
    loadStarter: false,
    config: {
      proxyUpstreams: [
        { name: 'openai', api: 'openai', baseUrl: upstream.url },
        { name: 'anthropic', api: 'anthropic', baseUrl: upstream.url },
        { name: 'ollama', api: 'openai', baseUrl: upstream.url },
      ],
      proxyTimeoutMs: 600,
      ...config,
    },
  });
  const actors = await makeActors(app);
  return {
    app,
    upstream,
    actors,
    openai: (o = {}) =>
      new OpenAI({
        apiKey: OPENAI_KEY,
        baseURL: o.baseURL ?? `${app.url}/proxy/${o.upstream ?? 'openai'}/v1`,
        defaultHeaders: { ...(o.token === null ? {} : { 'X-Menagerie-Token': o.token ?? actors.contributor.token }), ...o.headers },
        maxRetries: 0,
        ...(o.timeout ? { timeout: o.timeout } : {}),
      }),
    anthropic: (o = {}) =>
      new Anthropic({
        apiKey: ANTHROPIC_KEY,
        baseURL: `${app.url}/proxy/anthropic`,
        defaultHeaders: { ...(o.token === null ? {} : { 'X-Menagerie-Token': o.token ?? actors.contributor.token }), ...o.headers },
        maxRetries: 0,
      }),
    async mark() {
      await app.app.captureLog.drain();
      return new Date();
    },
    async capturesSince(since) {
      await app.app.captureLog.drain();
      return app.deps.db.select().from(captures).where(gt(captures.createdAt, since)).orderBy(desc(captures.startedAt));
    },
    async close() {
      await app.close();
      await upstream.close();
    },
  };
}

/** Asserts-friendly: the row as JSON text, to search for secrets that must not be stored anywhere in it. */
export const rowText = (row: CaptureRow): string => JSON.stringify(row);

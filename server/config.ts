import { z } from 'zod';
import { DEFAULT_UPSTREAMS, parseUpstreams } from './proxy/upstreams.ts';

/**
 * Every configuration key, parsed once at boot from the environment. Each key documents its variable name;
 * the README's configuration reference is generated from the same descriptions (`npx menagerie config`).
 */
export const configKeys = {
  port: { env: 'PORT', doc: 'HTTP port to listen on.', example: '3000' },
  host: { env: 'HOST', doc: 'Interface to bind.', example: '0.0.0.0' },
  dataDir: { env: 'MENAGERIE_DATA_DIR', doc: 'Folder of the embedded PGlite database (ignored when DATABASE_URL is set).', example: './data' },
  databaseUrl: { env: 'DATABASE_URL', doc: 'PostgreSQL connection string; when set, a PostgreSQL server is used instead of PGlite.', example: 'postgres://user:pass@localhost:5432/menagerie' },
  databasePoolSize: { env: 'DATABASE_POOL_SIZE', doc: 'Connections in the PostgreSQL pool.', example: '20' },
  pgliteWorker: { env: 'MENAGERIE_PGLITE_WORKER', doc: 'Run the embedded PGlite database in a worker thread, so its work uses another core instead of blocking the server (false: run it in the server thread).', example: 'true' },
  secret: { env: 'MENAGERIE_SECRET', doc: 'Secret for CSRF tokens; generated and kept in the data folder (or database) when absent.', example: '(32+ random characters)' },
  bodyLimit: { env: 'MENAGERIE_BODY_LIMIT', doc: 'Largest request body accepted, in bytes; larger bodies get 413.', example: '2097152' },
  importMaxBytes: { env: 'MENAGERIE_IMPORT_MAX_BYTES', doc: 'Largest file accepted for import (the import page, POST /api/v1/imports and menagerie import), in bytes; larger uploads get 413. Files are streamed, so this guards disk and time, not memory.', example: '1073741824' },
  sessionDays: { env: 'MENAGERIE_SESSION_DAYS', doc: 'Days a sign-in lasts without activity.', example: '14' },
  secureCookies: { env: 'MENAGERIE_SECURE_COOKIES', doc: 'Mark cookies Secure (set to true behind HTTPS). Default: true when NODE_ENV=production.', example: 'false' },
  baseUrl: { env: 'MENAGERIE_BASE_URL', doc: 'Public URL of the site, used in links and the OpenAPI document.', example: 'http://localhost:3000' },
  logLevel: { env: 'LOG_LEVEL', doc: 'silent, error, info or debug.', example: 'info' },
  loadStarter: { env: 'MENAGERIE_LOAD_STARTER', doc: 'Load the starter ethogram on first start.', example: 'true' },
  proxyEnabled: { env: 'MENAGERIE_PROXY_ENABLED', doc: 'Serve the recording proxy at /proxy/<upstream>/v1/... (every call needs a Menagerie API token and is filed in the field log).', example: 'true' },
  proxyUpstreams: {
    env: 'MENAGERIE_PROXY_UPSTREAMS',
    doc: 'Upstreams of the recording proxy, comma-separated NAME=API:URL (API is openai or anthropic; URL is what /v1/... is appended to). Added to the defaults openai=openai:https://api.openai.com and anthropic=anthropic:https://api.anthropic.com; a default\'s name replaces it.',
    example: 'ollama=openai:http://127.0.0.1:11434',
  },
  proxyTimeoutMs: { env: 'MENAGERIE_PROXY_TIMEOUT_MS', doc: 'Longest the proxy waits for an upstream to answer, or for the next bytes of an answer, in milliseconds (then 504, or the stream is cut; recorded as a timeout).', example: '600000' },
  judgeKeyOrigins: {
    env: 'MENAGERIE_JUDGE_KEY_ORIGINS',
    doc: 'Origins (comma-separated scheme://host:port) besides the official OpenAI and Anthropic APIs that an LLM judge may send a server key to. Judge keys live in OPENAI_API_KEY, ANTHROPIC_API_KEY or MENAGERIE_JUDGE_<NAME> variables, which judge settings name; they are never stored, logged or shown.',
    example: 'https://llm.internal.example:8443',
  },
  inprocessWorker: { env: 'MENAGERIE_INPROCESS_WORKER', doc: 'Run background jobs (classification jobs...) in the web server process (false: leave them to separate `menagerie worker` processes on the same database).', example: 'true' },
  liveEventsPerSecond: { env: 'MENAGERIE_LIVE_EVENTS_PER_SECOND', doc: 'Live sessions: events (codes, comments, prompts, cursor moves) one connection may send per second on average; more are refused with rate_limited while the session keeps serving others.', example: '20' },
  liveEventBurst: { env: 'MENAGERIE_LIVE_EVENT_BURST', doc: 'Live sessions: events one connection may send at once before the per-second rate applies (a fast coder\'s flurry of hotkeys).', example: '40' },
  realtimeAdapter: { env: 'MENAGERIE_REALTIME_ADAPTER', doc: 'With a PostgreSQL server: share socket.io rooms between server processes through the database (postgres), so several processes can serve one live session; none keeps them in this process. PGlite serves one process and ignores it.', example: 'postgres' },
  workerConcurrency: { env: 'MENAGERIE_WORKER_CONCURRENCY', doc: 'Background jobs one worker (the in-process one, or each `menagerie worker`) runs at once.', example: '2' },
} as const;

/**
 * The judge key variables of an environment (and the allowed origins): what an LLM judge may read, and nothing
 * else of the process's environment (judge settings are edited by researchers, so they must not reach
 * DATABASE_URL or MENAGERIE_SECRET).
 */
export function judgeEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && /^(?:OPENAI_API_KEY|ANTHROPIC_API_KEY|MENAGERIE_JUDGE_[A-Z0-9_]+)$/.test(name)) picked[name] = value;
  }
  return picked;
}

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const configSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  host: z.string().default('0.0.0.0'),
  dataDir: z.string().min(1).default('./data'),
  databaseUrl: z.string().url().optional(),
  databasePoolSize: z.coerce.number().int().min(1).max(200).default(20),
  pgliteWorker: bool.default(true),
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
  bodyLimit: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  importMaxBytes: z.coerce.number().int().min(1024).default(1024 * 1024 * 1024),
  sessionDays: z.coerce.number().min(0.001).max(365).default(14),
  secureCookies: bool.optional(),
  baseUrl: z.string().url().default('http://localhost:3000'),
  logLevel: z.enum(['silent', 'error', 'info', 'debug']).default('info'),
  loadStarter: bool.default(true),
  proxyEnabled: bool.default(true),
  proxyUpstreams: z
    .string()
    .transform((text, ctx) => {
      const parsed = parseUpstreams(text);
      if ('upstreams' in parsed) return parsed.upstreams;
      for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message, input: text });
      return z.NEVER;
    })
    .default(() => [...DEFAULT_UPSTREAMS]),
  proxyTimeoutMs: z.coerce.number().int().min(100).max(86_400_000).default(600_000),
  judgeKeyOrigins: z.string().optional(),
  inprocessWorker: bool.default(true),
  workerConcurrency: z.coerce.number().int().min(1).max(64).default(2),
  liveEventsPerSecond: z.coerce.number().min(1).max(10_000).default(20),
  liveEventBurst: z.coerce.number().int().min(1).max(100_000).default(40),
  realtimeAdapter: z.enum(['postgres', 'none']).default('postgres'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  public readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Reads configuration from an environment map; throws ConfigError listing every problem at once. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const raw: Record<string, string> = {};
  for (const [key, { env: name }] of Object.entries(configKeys)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0]) as keyof typeof configKeys;
        return `${configKeys[key]?.env ?? key}: ${i.message}`;
      }),
    );
  }
  return parsed.data;
}

/** A config for tests and embedding: defaults plus overrides, no environment read. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...configSchema.parse({}), logLevel: 'silent', loadStarter: false, ...overrides };
}

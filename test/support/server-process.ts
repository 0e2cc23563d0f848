import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { anonymous } from '../../accounts/actor.ts';
import { createApiToken } from '../../accounts/api-tokens.ts';
import { createUser } from '../../accounts/create-user.command.ts';
import { setRole } from '../../accounts/set-role.command.ts';
import type { Role } from '../../accounts/account.schema.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import { testConfig } from '../../server/config.ts';
import { openDatabase, type Database } from '../../server/db/client.ts';
import { createLogger } from '../../server/logger.ts';
import { prepareInstance } from '../../server/prepare-instance.ts';
import { TEMPLATE_DB } from './test-db.ts';
import { menagerieArgs } from './menagerie-command.ts';

/** A free localhost port (asked of the OS, then released for the server to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A database for real server processes (`menagerie serve`): a fresh PostgreSQL database cloned from the run's
 * template when the suite runs on a server, else a PGlite data folder. The starter ethogram is loaded and users are
 * made through the domain commands before any server starts (a PGlite folder has one owner at a time).
 */
export interface ProcessDatabase {
  env: Record<string, string>;
  kind: 'pglite' | 'postgres';
  users: Record<string, { id: string; token: string; email: string }>;
  /** The starter ethogram's published version. */
  versionId: string;
  dispose(): Promise<void>;
}

export async function prepareProcessDatabase(people: Array<{ name: string; role: Role }>): Promise<ProcessDatabase> {
  const serverUrl = process.env.MENAGERIE_TEST_DATABASE_URL;
  let database: Database;
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  if (serverUrl) {
    const name = `menagerie_proc_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`).catch(async () => admin.query(`CREATE DATABASE ${name}`));
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    database = await openDatabase({ databaseUrl: url.toString(), poolSize: 2 });
    env = { DATABASE_URL: url.toString() };
    dispose = async () => {
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await dropper.end();
    };
  } else {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'menagerie-proc-'));
    database = await openDatabase({ dataDir, pgliteInProcess: true });
    env = { MENAGERIE_DATA_DIR: dataDir };
    dispose = async () => rmSync(dataDir, { recursive: true, force: true });
  }
  await database.migrate();
  const now = () => new Date();
  await prepareInstance({ db: database.db, config: testConfig({ loadStarter: true }), logger: createLogger('silent'), now });
  const ctx = { db: database.db, actor: anonymous, now };
  const users: ProcessDatabase['users'] = {};
  for (const person of [{ name: 'first-admin', role: 'admin' as Role }, ...people]) {
    const email = `${person.name}-${randomBytes(3).toString('hex')}@example.org`;
    const user = await createUser(ctx, { email, password: `pw-${randomBytes(8).toString('hex')}`, displayName: person.name });
    if (user.role !== person.role) await setRole(ctx, user.id, person.role);
    users[person.name] = { id: user.id, email, token: (await createApiToken(database.db, user.id, 'test')).token };
  }
  const versionId = (await defaultPublishedVersion(database.db))!.id;
  await database.close();
  return { env, kind: serverUrl ? 'postgres' : 'pglite', users, versionId, dispose };
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** What the process wrote to stderr so far (its error log). */
  stderr(): string;
  /** Ends the process: SIGTERM shuts down cleanly, SIGKILL is a crash. Resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `menagerie serve` on the database and port, and waits until it answers HTTP. */
export async function startServerProcess(db: ProcessDatabase, port: number, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...db.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', MENAGERIE_INPROCESS_WORKER: 'false', ...extraEnv };
  if (!db.env.DATABASE_URL) delete env.DATABASE_URL;
  const child = spawn(process.execPath, menagerieArgs('serve'), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited at start: ${stderr.slice(0, 2000)}`);
    try {
      const res = await fetch(`${url}/api/v1/me`);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not answer within 60 s: ${stderr.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    port,
    child,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Db } from '../../core/db.ts';
import type { RemotePGlite } from './pglite-remote.ts';

export const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** This open created the data folder's database (PGlite's initdb ran): false for PostgreSQL and existing folders. */
  created: boolean;
  /** Applies committed migrations (idempotent). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir?: string;
  poolSize?: number;
  /**
   * An already open PGlite: in this thread, or in a worker thread (tests load a migrated template into one).
   * Closed with the database.
   */
  pglite?: PGlite | RemotePGlite;
  /**
   * Open the data folder's PGlite in this thread instead of a worker thread. The worker is the default: PGlite's
   * WASM work then runs on another core instead of blocking the server's event loop.
   */
  pgliteInProcess?: boolean;
}

/**
 * Opens PostgreSQL when a URL is given, else PGlite in the data folder (created on first use), run in a worker
 * thread unless `pgliteInProcess`.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 20 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = drizzlePg(pool) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      created: false,
      migrate: () => migratePg(db as never, { migrationsFolder }),
      close: () => pool.end(),
    };
  }
  // PGlite's modules load only when PGlite is used: a server on PostgreSQL saves their ~40 MB.
  const [{ drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator')]);
  let client = options.pglite;
  let created = false;
  if (!client) {
    const dataDir = path.resolve(options.dataDir ?? './data');
    mkdirSync(dataDir, { recursive: true });
    const pgliteDir = path.join(dataDir, 'pglite');
    created = !existsSync(path.join(pgliteDir, 'PG_VERSION'));
    client = options.pgliteInProcess
      ? await (await import('@electric-sql/pglite')).PGlite.create(pgliteDir)
      : await (await import('./pglite-remote.ts')).RemotePGlite.create({ dataDir: pgliteDir });
  }
  // RemotePGlite has the part of PGlite's API that drizzle's pglite driver and migrator call.
  const db = drizzlePglite(client as PGlite) as unknown as Db;
  const owned = client;
  return {
    db,
    kind: 'pglite',
    created,
    migrate: () => migratePglite(db as never, { migrationsFolder }),
    close: () => owned.close(),
  };
}

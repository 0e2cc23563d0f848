import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PgServer { url: string; stop(): void; createDatabase(name: string): Promise<string> }

function pgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(a) - Number(b));
  const v = versions.pop();
  return v ? path.join(base, v, 'bin') : null;
}

/**
 * The PostgreSQL server the benchmark measures against: BENCH_DATABASE_URL if set, else a throwaway cluster
 * started from Debian's binaries on a free port (as the `postgres` user when run as root). Null when neither.
 */
export async function startPostgres(): Promise<PgServer | null> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) return wrap(given, () => {});
  const bin = pgBin();
  if (!bin) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'ignore' });
    else execFileSync(full, args, { stdio: 'ignore' });
  };
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), 0);
  const port = 55000 + Math.floor(Math.random() * 1000);
  run('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres']);
  run('pg_ctl', ['-D', dir, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start']);
  const stop = () => {
    const full = path.join(bin, 'pg_ctl');
    const args = ['-D', dir, '-m', 'fast', 'stop'];
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'ignore' });
    else spawnSync(full, args, { stdio: 'ignore' });
  };
  return wrap(`postgres://postgres@127.0.0.1:${port}/postgres`, stop);
}

function wrap(url: string, stop: () => void): PgServer {
  return {
    url,
    stop,
    async createDatabase(name: string) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
  };
}

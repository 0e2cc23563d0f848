import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/menagerie.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface AppProcess { url: string; pid: number; token: string; rssMb(): number; stop(): Promise<void> }

/**
 * Starts the real server (`menagerie serve`) in its own process, as a user would, and makes an account (`email`,
 * new on this database) and API token through the `menagerie admin` commands. The benchmark's load runs in this process, apart.
 */
export async function startAppProcess(env: Record<string, string>, email = 'bench@example.org'): Promise<AppProcess> {
  const port = await freePort();
  const fullEnv = { ...process.env, LOG_LEVEL: 'error', PORT: String(port), HOST: '127.0.0.1', ...env };
  execFileSync(process.execPath, [bin, 'admin', 'create', email, '--role', 'admin'], { env: fullEnv, stdio: 'ignore' });
  const token = execFileSync(process.execPath, [bin, 'admin', 'token', email], { env: fullEnv }).toString().trim();
  const child: ChildProcess = spawn(process.execPath, [...(process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean), bin, 'serve'], { env: fullEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url + '/healthz')).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    token,
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

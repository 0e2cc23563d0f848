import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux everywhere that matters). */
const TICKS = 100;

/** Resident set size of a process, in MB (VmRSS). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds one thread of a process has used so far (a process's main thread has the process's own id). */
export function threadCpuSeconds(pid: number, tid = pid): number {
  return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
}

function statCpuSeconds(file: string): number {
  const stat = readFileSync(file, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/**
 * CPU cores used between two snapshots by processes other than `ours` and their descendants, in total and by
 * name (the busiest first). Processes that exited in between are not seen.
 */
export function othersCpu(before: ReturnType<typeof allProcessesCpu>, after: ReturnType<typeof allProcessesCpu>, ours: Set<number>, seconds: number): { cores: number; top: string } {
  const isOurs = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; p = after.get(p)?.ppid ?? 0, hops++) if (ours.has(p)) return true;
    return false;
  };
  const byName = new Map<string, number>();
  let total = 0;
  for (const [pid, { cpu, name }] of after) {
    if (isOurs(pid)) continue;
    const used = cpu - (before.get(pid)?.cpu ?? 0);
    if (used <= 0) continue;
    total += used;
    byName.set(name, (byName.get(name) ?? 0) + used);
  }
  const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([n, c]) => `${n} ${(c / seconds).toFixed(2)}`).join('; ');
  return { cores: total / seconds, top };
}

/** The whole machine's CPU seconds, busy and total, summed over cores (from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** CPU seconds used so far by every process on the machine, by pid, with its parent and a short name (its command line). */
export function allProcessesCpu(): Map<number, { cpu: number; ppid: number; name: string }> {
  const out = new Map<number, { cpu: number; ppid: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const name = cmd.length ? cmd.map((a) => path.basename(a)).slice(0, 4).join(' ').slice(0, 80) : `[${pid}]`;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(pid, { cpu: cpuSeconds(pid), ppid, name });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * Seconds one thread has spent runnable but waiting for a core so far (/proc's schedstat; 0 where the kernel
 * does not keep it).
 */
export function threadRunQueueSeconds(pid: number, tid = pid): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return 0;
  }
}

/** Where the machine's CPU goes during a timed run: a snapshot now, and `since(snapshot)` at its end. */
export interface CpuSplit { machine: number; bench: number; server: number; serverMainThread: number; serverMainThreadWaiting: number; postgres: number }

export function cpuSnapshot(serverPid?: number) {
  return {
    at: process.hrtime.bigint(),
    machine: machineCpu().busy,
    bench: process.cpuUsage(),
    server: serverPid ? cpuSeconds(serverPid) : 0,
    serverMainThread: serverPid ? threadCpuSeconds(serverPid) : 0,
    serverMainThreadWaiting: serverPid ? threadRunQueueSeconds(serverPid) : 0,
    all: allProcessesCpu(),
    serverPid,
  };
}

/**
 * Cores busy on average since the snapshot: the machine, this bench process, the server and its main thread
 * (the one JavaScript runs on), and PostgreSQL (every process named `postgres`: a local cluster's backends and
 * background workers; those that exited meanwhile are not seen).
 */
export function cpuSince(s: ReturnType<typeof cpuSnapshot>): CpuSplit {
  const seconds = Number(process.hrtime.bigint() - s.at) / 1e9;
  const bench = process.cpuUsage(s.bench);
  let postgres = 0;
  for (const [pid, { cpu, name }] of allProcessesCpu()) {
    if (name.startsWith('postgres')) postgres += cpu - (s.all.get(pid)?.cpu ?? 0);
  }
  return {
    machine: (machineCpu().busy - s.machine) / seconds,
    bench: (bench.user + bench.system) / 1e6 / seconds,
    server: s.serverPid ? (cpuSeconds(s.serverPid) - s.server) / seconds : 0,
    serverMainThread: s.serverPid ? (threadCpuSeconds(s.serverPid) - s.serverMainThread) / seconds : 0,
    serverMainThreadWaiting: s.serverPid ? (threadRunQueueSeconds(s.serverPid) - s.serverMainThreadWaiting) / seconds : 0,
    postgres: postgres / seconds,
  };
}

/**
 * One line for a bench's output: `machine 1.62, server 0.87 (main thread 0.74, and 0.20 waiting for a core),
 * PostgreSQL 0.49, bench client 0.16`. A main thread busy plus waiting near 1.00 is the limit; its waiting share
 * is the time the other processes took the cores it could have run on. `server` names the server's part (left
 * out when no server ran); `postgres` says whether a PostgreSQL cluster's part is shown.
 */
export function describeCpu(c: CpuSplit, parts: { server?: string; postgres: boolean }): string {
  const server = parts.server
    ? `, ${parts.server} ${c.server.toFixed(2)} (main thread ${c.serverMainThread.toFixed(2)}, and ${c.serverMainThreadWaiting.toFixed(2)} waiting for a core)`
    : '';
  const postgres = parts.postgres ? `, PostgreSQL ${c.postgres.toFixed(2)}` : '';
  return `machine ${c.machine.toFixed(2)}${server}${postgres}, bench client ${c.bench.toFixed(2)}`;
}

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
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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

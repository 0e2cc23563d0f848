/**
 * Up-front memory checks: a load or a run that would need more memory than the machine has free is refused with
 * the estimate in the message, instead of being killed halfway by the OS.
 */
import os from 'node:os';
import { EngineError, formatBytes } from './errors.ts';

/** Bytes this process can still use: free memory, bounded by a cgroup limit when there is one. */
export function availableMemoryBytes(): number {
  let free = os.freemem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (constrained && constrained > 0 && constrained < 2 ** 50) free = Math.min(free, constrained - process.memoryUsage().rss);
  return free;
}

/** Throws `insufficient_memory` when `needBytes` exceeds `limitBytes` (default: what the machine has free). */
export function checkMemory(what: string, needBytes: number, limitBytes?: number): void {
  const limit = limitBytes ?? availableMemoryBytes();
  if (needBytes > limit) {
    throw new EngineError(
      'insufficient_memory',
      `${what} needs about ${formatBytes(needBytes)} of memory, but only ${formatBytes(limit)} is available ` +
        `(machine total ${formatBytes(os.totalmem())}). Use a smaller model, a shorter prompt or fewer cached hooks.`,
      { needBytes, limitBytes: limit },
    );
  }
}

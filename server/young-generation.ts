/**
 * The young generation's size for `menagerie serve`: 16 MB a semi-space, Node 20's default.
 *
 * Node 24's V8 lets each semi-space grow to 64 MB. Under an ingestion burst the young generation fills to that,
 * so the server's RSS after the burst was 357-368 MB instead of about 240 MB, at the same rate (1,652 against
 * 1,670 observations/s, bench/ingestion.bench.ts on Node 24). V8 fixes the size when it makes the heap, so it cannot
 * be set once the process runs (as the old generation's growth is, in main.ts); where Node can replace its own
 * process (`process.execve`, Node 22.15 and later, not on Windows), serve restarts itself at once with the flag:
 * same pid, streams and environment, before any module of the app is loaded. Node 20 has no execve and needs none.
 * A `--max-semi-space-size` given on the command line or in NODE_OPTIONS wins.
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size';
const SEMI_SPACE_MB = 16;

/** The arguments to restart this process with, or null when it needs no restart. */
export function youngGenerationRestart(
  execArgv: readonly string[],
  argv: readonly string[],
  nodeOptions: string | undefined,
  canReplaceProcess: boolean,
): string[] | null {
  if (!canReplaceProcess) return null;
  if (execArgv.some((a) => a.startsWith(SEMI_SPACE_FLAG)) || nodeOptions?.includes(SEMI_SPACE_FLAG)) return null;
  return [argv[0]!, `${SEMI_SPACE_FLAG}=${SEMI_SPACE_MB}`, ...execArgv, ...argv.slice(1)];
}

/** Restarts this process with a bounded young generation when it has none and Node can (see above); else returns. */
export function boundYoungGeneration(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  // Runs before the app's config exists: NODE_OPTIONS is Node's own setting, not Menagerie's, and the environment
  // passes to the restarted process unchanged.
  const args = youngGenerationRestart(process.execArgv, process.argv, process.env.NODE_OPTIONS, typeof execve === 'function');
  if (args && execve) execve.call(process, process.execPath, args, process.env);
}

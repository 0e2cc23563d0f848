/** A minimal levelled logger writing one line per entry; never given secrets, tokens or passwords. */
export interface Logger {
  error(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  debug(msg: string, meta?: Record<string, unknown>): void;
}

const levels = { silent: 0, error: 1, info: 2, debug: 3 } as const;

export function createLogger(level: keyof typeof levels, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const at = levels[level];
  const log = (lvl: keyof typeof levels, msg: string, meta?: Record<string, unknown>) => {
    if (levels[lvl] > at) return;
    write(`${new Date().toISOString()} ${lvl} ${msg}${meta ? ' ' + JSON.stringify(meta) : ''}`);
  };
  return {
    error: (m, meta) => log('error', m, meta),
    info: (m, meta) => log('info', m, meta),
    debug: (m, meta) => log('debug', m, meta),
  };
}

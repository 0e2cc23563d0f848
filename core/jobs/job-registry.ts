import type { JobHandler } from './job-handler.ts';

/** The handlers a queue serves, by kind. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobHandlerRegistry = ReadonlyMap<string, JobHandler<any>>;

/** A registry from a list of handlers; two handlers of one kind are a programming error. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function jobHandlerRegistry(handlers: readonly JobHandler<any>[]): JobHandlerRegistry {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const map = new Map<string, JobHandler<any>>();
  for (const handler of handlers) {
    if (map.has(handler.kind)) throw new Error(`Two job handlers of kind "${handler.kind}".`);
    map.set(handler.kind, handler);
  }
  return map;
}

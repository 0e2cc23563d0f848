import type { Operation } from './operation.ts';

/** The ethogram operations (filled in with the ethogram routes' own schemas). */
export const ethogramOperations: Operation[] = [];

import type { Db } from '../core/db.ts';

/** Loads the shipped starter ethogram once; returns what it loaded, or null when already present. */
export async function loadStarterEthogram(_db: Db, _now: () => Date): Promise<{ behaviours: number } | null> {
  return null;
}

import type { Actor } from '../accounts/actor.ts';
import type { Db } from './db.ts';

/** What every command and query receives: the database (or open transaction), who acts, and the time. */
export interface Ctx {
  db: Db;
  actor: Actor;
  now: () => Date;
}

import type { Db } from '../core/db.ts';
import { findVersion, listVersionBehaviours } from '../ethograms/behaviour.queries.ts';
import type { ModifierSetDef } from '../ethograms/ethogram.schema.ts';
import type { LiveSessionView } from './live-events.ts';

export interface SessionBehaviour {
  id: string;
  code: string;
  name: string;
  kind: 'event' | 'state';
  hotkey: string | null;
  colour: string;
  category: string;
  modifierSets: string[];
}

/** A published ethogram version as a session codes against it: behaviours by code, modifier sets by key. */
export interface SessionEthogram {
  versionId: string;
  behaviours: Map<string, SessionBehaviour>;
  modifierSets: Map<string, ModifierSetDef>;
}

/**
 * Published versions never change, so each process keeps the ones its sessions use (a handful) for good: a
 * code is checked without a query.
 */
export class SessionEthograms {
  private readonly db: Db;
  private readonly cache = new Map<string, Promise<SessionEthogram>>();

  constructor(db: Db) {
    this.db = db;
  }

  get(versionId: string): Promise<SessionEthogram> {
    let found = this.cache.get(versionId);
    if (!found) {
      found = loadSessionEthogram(this.db, versionId);
      found.catch(() => this.cache.delete(versionId));
      this.cache.set(versionId, found);
    }
    return found;
  }
}

export async function loadSessionEthogram(db: Db, versionId: string): Promise<SessionEthogram> {
  const version = await findVersion(db, versionId);
  const rows = await listVersionBehaviours(db, versionId);
  const behaviours = new Map<string, SessionBehaviour>();
  for (const b of rows) {
    if (b.status !== 'active') continue;
    behaviours.set(b.code, {
      id: b.id,
      code: b.code,
      name: b.name,
      kind: b.kind === 'state' ? 'state' : 'event',
      hotkey: b.hotkey,
      colour: b.colour,
      category: b.category,
      modifierSets: b.modifierSets,
    });
  }
  const modifierSets = new Map<string, ModifierSetDef>((version?.version.modifierSets ?? []).map((m) => [m.key, m]));
  return { versionId, behaviours, modifierSets };
}

/** The ethogram part of the join answer. */
export function presentSessionEthogram(e: SessionEthogram): Pick<LiveSessionView, 'behaviours' | 'modifierSets'> {
  return {
    behaviours: [...e.behaviours.values()].map(({ id: _id, ...b }) => b),
    modifierSets: [...e.modifierSets.values()].map((m) => ({ key: m.key, name: m.name, values: m.values ?? [] })),
  };
}

/**
 * Checks a code's modifiers against the behaviour: each key must be one of its modifier sets, each value one of
 * the set's values (numeric sets: a number within bounds). Returns the problem in words, or null.
 */
export function modifierProblem(e: SessionEthogram, behaviour: SessionBehaviour, modifiers: Record<string, string>): string | null {
  for (const [key, value] of Object.entries(modifiers)) {
    if (!behaviour.modifierSets.includes(key)) {
      const allowed = behaviour.modifierSets.length ? behaviour.modifierSets.join(', ') : 'none';
      return `${behaviour.code} has no modifier "${key}" (its modifiers: ${allowed})`;
    }
    const set = e.modifierSets.get(key);
    if (!set) return `the modifier set "${key}" is not in this ethogram version`;
    if ((set.type === 'single' || set.type === 'multi') && set.values && !set.values.includes(value)) {
      return `"${value}" is not a value of ${set.name} (one of: ${set.values.join(', ')})`;
    }
    if (set.type === 'numeric') {
      const n = Number(value);
      if (!Number.isFinite(n) || (set.min !== undefined && n < set.min) || (set.max !== undefined && n > set.max)) {
        return `${set.name} must be a number${set.min !== undefined ? ` from ${set.min}` : ''}${set.max !== undefined ? ` to ${set.max}` : ''}`;
      }
    }
  }
  return null;
}

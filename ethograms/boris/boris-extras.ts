import { isDeepStrictEqual } from 'node:util';
import type { EthogramDocumentInput } from '../ethogram-document.schema.ts';

/**
 * What a BORIS import keeps of the original project that the Menagerie document cannot hold (a key like "F1",
 * a colour name, "Point event with coding map", subjects, independent variables, a category's colour…), so
 * that exporting the imported version gives the original back.
 *
 * Each kept value is stored with the value our exporter wrote for it at import time (`asExported`). On export,
 * the original replaces the fresh value only while the fresh value is still that one: once a researcher changes
 * the behaviour (a new hotkey, another colour), their change wins and the original is not resurrected.
 */
export interface KeptValue {
  original: unknown;
  asExported: unknown;
}

export interface BorisExtras {
  format: 'menagerie.boris-extras/v1';
  /** Top-level project keys whose original value differs from ours (or that we never write). */
  project: Record<string, KeptValue>;
  /** Per behaviour, by its stable key: the BORIS fields whose original differs from ours. */
  behaviours: Record<string, Record<string, KeptValue>>;
}

/** Keys never kept: observations are not imported, and the sidecar is always written fresh. */
const NOT_KEPT = new Set(['behaviors_conf', 'observations', 'menagerie']);

/** A JSON copy: extras are stored as JSON, so compare and store what JSON keeps. */
const plain = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/**
 * Compares the original project with our export of what was imported from it, keeping every original value
 * that our export would not reproduce. `behaviourKeys[i]` is the key given to the i-th behaviour of `original`
 * (in BORIS order), which is also the i-th of `fresh`.
 */
export function collectBorisExtras(
  original: Record<string, unknown>,
  originalBehaviours: readonly Record<string, unknown>[],
  fresh: Record<string, unknown> & { behaviors_conf: Record<string, Record<string, unknown>> },
  behaviourKeys: readonly string[],
): BorisExtras {
  const project: Record<string, KeptValue> = {};
  for (const key of new Set([...Object.keys(original), ...Object.keys(fresh)])) {
    if (NOT_KEPT.has(key)) continue;
    const kept = plain(original[key]);
    const ours = plain(fresh[key]);
    if (!isDeepStrictEqual(kept, ours)) project[key] = { original: kept, asExported: ours };
  }
  const behaviours: Record<string, Record<string, KeptValue>> = {};
  originalBehaviours.forEach((source, index) => {
    const ours = fresh.behaviors_conf[String(index)] ?? {};
    const fields: Record<string, KeptValue> = {};
    for (const field of new Set([...Object.keys(source), ...Object.keys(ours)])) {
      const kept = plain(source[field]);
      const exported = plain(ours[field]);
      if (!isDeepStrictEqual(kept, exported)) fields[field] = { original: kept, asExported: exported };
    }
    if (Object.keys(fields).length > 0) behaviours[behaviourKeys[index]!] = fields;
  });
  return { format: 'menagerie.boris-extras/v1', project, behaviours };
}

function restore(target: Record<string, unknown>, field: string, kept: KeptValue): void {
  if (!isDeepStrictEqual(plain(target[field]), kept.asExported)) return;
  if (kept.original === undefined) delete target[field];
  else target[field] = kept.original;
}

/** Puts back the kept originals wherever our fresh export still equals what it was at import. */
export function applyBorisExtras<P extends Record<string, unknown> & { behaviors_conf: Record<string, Record<string, unknown>> }>(
  project: P,
  document: EthogramDocumentInput,
  extras: BorisExtras,
): P {
  for (const [field, kept] of Object.entries(extras.project)) restore(project, field, kept);
  document.behaviours.forEach((behaviour, index) => {
    const fields = extras.behaviours[behaviour.key];
    const target = project.behaviors_conf[String(index)];
    if (!fields || !target) return;
    for (const [field, kept] of Object.entries(fields)) restore(target, field, kept);
  });
  return project;
}

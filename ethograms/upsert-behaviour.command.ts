import { eq, sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { AppError, conflict, invalid, notFound, type FieldErrors } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { parseOrThrow } from '../core/validation.ts';
import { ethogramBehaviourSchema, type EthogramBehaviour } from './ethogram-document.schema.ts';
import type { BehaviourInput } from './ethogram.input.ts';
import { behaviours } from './ethogram.schema.ts';
import { actorIdOf, isUniqueViolation, lockDraft, recordDraftEdit } from './draft-edit.ts';
import type { BehaviourRow, VersionRow } from './version-document.ts';

/** `create` refuses a code the draft already has, `update` a code it lacks; `upsert` (the API's PUT) takes either. */
export type UpsertMode = 'upsert' | 'create' | 'update';

export interface UpsertedBehaviour {
  behaviour: BehaviourRow;
  /** True when the behaviour is new to the draft; false when an existing one was changed. */
  created: boolean;
}

/**
 * Adds a behaviour to a draft, or changes the one with `code` (renaming it when the input carries another
 * code). The behaviour must pass the document's behaviour rules and fit the draft: its code, key and hotkey
 * unused by the draft's other behaviours (409), its category and modifier sets defined in the draft (422).
 * Rules spanning the whole document (exclusive groups, replacements) are checked again on publish.
 */
export async function upsertBehaviour(
  ctx: Ctx,
  versionId: string,
  code: string,
  input: BehaviourInput,
  options: { mode?: UpsertMode } = {},
): Promise<UpsertedBehaviour> {
  const mode = options.mode ?? 'upsert';
  try {
    return await inTransaction(ctx.db, async (tx) => {
      const version = await lockDraft(tx, versionId, input.revision);
      const rows = await tx.select().from(behaviours).where(eq(behaviours.versionId, versionId));
      const existing = rows.find((b) => b.code === code);
      if (existing && mode === 'create') {
        throw conflict(`This draft already has a behaviour ${code}. Edit that one, or choose another code.`, {
          fields: { code: `${code} is already used by "${existing.name}" in this draft.` },
        });
      }
      if (!existing && mode === 'update') throw notFound(`The behaviour ${code}`);
      if (!existing && input.code !== undefined && input.code !== code) {
        throw invalid(`There is no behaviour ${code} in this draft to rename; to add one, send the same code as in the address.`, {
          code: `Use "${code}", the code in the address, or leave it out.`,
        });
      }
      const { revision: _revision, ...fields } = input;
      const finalCode = fields.code ?? code;
      const behaviour = parseOrThrow(
        ethogramBehaviourSchema,
        { ...fields, code: finalCode, key: fields.key ?? existing?.key ?? `${fields.category}.${finalCode.toLowerCase()}` },
        'The behaviour',
      );
      checkFitsDraft(behaviour, version, rows.filter((b) => b !== existing));

      await recordDraftEdit(tx, ctx, version, existing ? `behaviour ${code} changed` : `behaviour ${finalCode} added`, existing);
      let saved: BehaviourRow;
      if (existing) {
        [saved] = (await tx.update(behaviours).set(behaviour).where(eq(behaviours.id, existing.id)).returning()) as [BehaviourRow];
      } else {
        const [next] = await tx
          .select({ position: sql<number>`coalesce(max(${behaviours.position}) + 1, 0)::int` })
          .from(behaviours)
          .where(eq(behaviours.versionId, versionId));
        [saved] = (await tx.insert(behaviours).values({ ...behaviour, versionId, position: next?.position ?? 0 }).returning()) as [BehaviourRow];
      }
      await recordEvent(tx, {
        type: existing ? 'behaviour.updated' : 'behaviour.added',
        entityType: 'behaviour',
        entityId: saved.id,
        actorId: actorIdOf(ctx.actor),
        payload: { version: version.number, code: saved.code, ...(existing && existing.code !== saved.code ? { renamedFrom: existing.code } : {}) },
      });
      return { behaviour: saved, created: !existing };
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw conflict(`Another behaviour with that code was saved at the same moment. Reload the draft and choose another code.`, {
        fields: { code: 'This code is already used in this draft.' },
      });
    }
    throw err;
  }
}

/** The draft-level rules one behaviour must meet; uniqueness clashes are 409, broken references 422. */
function checkFitsDraft(behaviour: EthogramBehaviour, version: VersionRow, others: BehaviourRow[]): void {
  const clashes: FieldErrors = {};
  const holder = (pick: (b: BehaviourRow) => string | null, value: string | null) => (value === null ? undefined : others.find((b) => pick(b) === value));
  const byCode = holder((b) => b.code, behaviour.code);
  if (byCode) clashes.code = `The code ${behaviour.code} is already used by "${byCode.name}" in this draft.`;
  const byKey = holder((b) => b.key, behaviour.key);
  if (byKey) clashes.key = `The key "${behaviour.key}" is already used by ${byKey.code} in this draft.`;
  const byHotkey = holder((b) => b.hotkey, behaviour.hotkey);
  if (byHotkey) clashes.hotkey = `The hotkey "${behaviour.hotkey}" is already used by ${byHotkey.code} in this draft.`;

  const broken: FieldErrors = {};
  const categoryKeys = version.categories.map((c) => c.key);
  if (!categoryKeys.includes(behaviour.category)) {
    broken.category = categoryKeys.length
      ? `The category "${behaviour.category}" is not defined in this draft; choose one of: ${categoryKeys.join(', ')}.`
      : 'This draft has no categories yet: add one to the draft first.';
  }
  const setKeys = version.modifierSets.map((m) => m.key);
  const unknownSets = behaviour.modifierSets.filter((key) => !setKeys.includes(key));
  if (unknownSets.length) broken.modifierSets = `Modifier set ${unknownSets.map((k) => `"${k}"`).join(', ')} is not defined in this draft.`;
  if (new Set(behaviour.modifierSets).size !== behaviour.modifierSets.length) broken.modifierSets = 'A modifier set is listed twice.';
  if (behaviour.replacedBy !== null) {
    if (behaviour.replacedBy === behaviour.code) broken.replacedBy = 'A behaviour cannot be replaced by itself.';
    else if (!others.some((b) => b.code === behaviour.replacedBy)) broken.replacedBy = `There is no behaviour ${behaviour.replacedBy} in this draft.`;
    if (behaviour.status !== 'deprecated') broken.status = 'A behaviour with a replacement must be deprecated.';
  }

  if (behaviour.parent !== null) {
    if (behaviour.parent === behaviour.code) broken.parent = 'A behaviour cannot sit under itself.';
    else if (!others.some((b) => b.code === behaviour.parent)) broken.parent = `There is no behaviour ${behaviour.parent} in this draft to sit under.`;
  }
  const missingRefs = behaviour.refersTo.filter((code) => !others.some((b) => b.code === code));
  if (missingRefs.length) broken.refersTo = `There is no behaviour ${missingRefs.join(', ')} in this draft to refer to.`;
  if (behaviour.level === 'act' && behaviour.refersTo.length) broken.refersTo = 'Only an interpretation refers to acts: set the level to interpretation, or leave this empty.';

  if (Object.keys(broken).length > 0) {
    throw invalid(`The behaviour does not fit this draft: ${Object.values(broken).join(' ')}`, { ...clashes, ...broken });
  }
  if (Object.keys(clashes).length > 0) {
    throw new AppError('conflict', Object.values(clashes).join(' '), { fields: clashes });
  }
}

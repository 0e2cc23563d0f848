import { eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { invalid, type FieldErrors } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { fieldErrors } from '../core/validation.ts';
import { ethogramDocumentSchema } from './ethogram-document.schema.ts';
import type { UpdateDraftInput } from './ethogram.input.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf, lockDraft, recordDraftEdit } from './draft-edit.ts';
import { versionDocument, type VersionRow } from './version-document.ts';

type ListName = 'categories' | 'modifierSets' | 'exclusiveGroups';
const LISTS: ListName[] = ['categories', 'modifierSets', 'exclusiveGroups'];

/**
 * Edits a draft's notes and its lists of categories, modifier sets and exclusive groups. A list that is sent
 * must hold together with the rest of the draft (unique keys, parents that exist and no cycles, no category or
 * modifier set removed while a behaviour still uses it, groups naming behaviours of the draft); lists that are
 * not sent are left as they are. The previous state is kept as a revision.
 */
export async function updateDraft(ctx: Ctx, versionId: string, input: UpdateDraftInput): Promise<VersionRow> {
  return inTransaction(ctx.db, async (tx) => {
    const version = await lockDraft(tx, versionId, input.revision);
    const [ethogram] = await tx.select().from(ethograms).where(eq(ethograms.id, version.ethogramId));
    const rows = await tx.select().from(behaviours).where(eq(behaviours.versionId, versionId));
    const changed: Partial<VersionRow> = {};
    if (input.notes !== undefined) changed.notes = input.notes;
    for (const list of LISTS) if (input[list] !== undefined) (changed as Record<ListName, unknown>)[list] = input[list];
    if (Object.keys(changed).length === 0) return version;
    const candidate = { ...version, ...changed };
    const problems = listProblems(versionDocument(ethogram!, candidate, rows), LISTS.filter((list) => input[list] !== undefined));
    if (Object.keys(problems).length > 0) {
      throw invalid(`The draft cannot take these changes: ${Object.values(problems).slice(0, 3).join('; ')}`, problems);
    }
    await recordDraftEdit(tx, ctx, version, 'draft updated');
    const [updated] = await tx.update(ethogramVersions).set(changed).where(eq(ethogramVersions.id, versionId)).returning();
    await recordEvent(tx, {
      type: 'ethogram_version.updated',
      entityType: 'ethogram_version',
      entityId: versionId,
      actorId: actorIdOf(ctx.actor),
      payload: { fields: Object.keys(changed) },
    });
    return updated!;
  });
}

/**
 * The document rules broken by the lists being changed. A behaviour whose category or modifier set no longer
 * exists is reported against the list (the list change is what broke it). Problems in parts not being changed
 * and a draft that is merely incomplete (no behaviours yet) are left for publishing to report.
 */
function listProblems(document: ReturnType<typeof versionDocument>, lists: ListName[]): FieldErrors {
  const result = ethogramDocumentSchema.safeParse(document);
  if (result.success || lists.length === 0) return {};
  const problems: FieldErrors = {};
  for (const [path, message] of Object.entries(fieldErrors(result.error))) {
    const [head, index, field] = path.split('.');
    if (lists.includes(head as ListName)) {
      if (index === undefined && /too small/i.test(message)) continue;
      problems[path] = message;
    } else if (head === 'behaviours' && index !== undefined && (field === 'category' || field === 'modifierSets')) {
      const list: ListName = field === 'category' ? 'categories' : 'modifierSets';
      if (!lists.includes(list)) continue;
      const code = document.behaviours[Number(index)]?.code ?? '?';
      const entry = `behaviour ${code} still uses it: ${message}`;
      problems[list] = problems[list] ? `${problems[list]}; ${entry}` : entry;
    }
  }
  return problems;
}

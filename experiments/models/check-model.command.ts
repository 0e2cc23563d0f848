import { eq } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, type Db } from '../../core/db.ts';
import { recordEvent } from '../../core/history.ts';
import { authorize } from '../../core/policy.ts';
import { EngineError, inspectModelFolder } from '../index.ts';
import { requireModel, type ModelRow } from './model.queries.ts';
import { models, type ModelStatus } from './model.schema.ts';

export interface ModelCheck {
  status: ModelStatus;
  /** Why it is not ready (null when ready). */
  reason: string | null;
}

/** Checks a registered model's folder against what was registered: gone, changed (sha256), invalid, or ready. */
export async function inspectRegistered(model: Pick<ModelRow, 'path' | 'weightsSha256'>): Promise<ModelCheck> {
  try {
    const report = await inspectModelFolder(model.path);
    if (report.weightsSha256 !== model.weightsSha256) {
      return {
        status: 'changed',
        reason: `The weights in ${model.path} changed since the model was registered (sha256 ${short(report.weightsSha256)}, registered ${short(model.weightsSha256)}): register the new weights as another model.`,
      };
    }
    return { status: 'ready', reason: null };
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    return checkOfError(error);
  }
}

/** What an engine refusal of a registered folder says about it: gone (or incomplete), or no longer valid. */
export function checkOfError(error: EngineError): ModelCheck {
  const missing = error.id === 'model_not_found' || error.id === 'model_incomplete';
  return { status: missing ? 'missing' : 'invalid', reason: error.message };
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** Stores a check's outcome on the model (and an event when the status changed). */
export async function recordModelCheck(db: Db, model: ModelRow, check: ModelCheck, at: Date, actorId: string | null): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.update(models).set({ status: check.status, statusReason: check.reason, checkedAt: at }).where(eq(models.id, model.id));
    if (check.status !== model.status) {
      await recordEvent(tx, { type: 'model.checked', entityType: 'model', entityId: model.id, actorId, payload: { from: model.status, to: check.status, reason: check.reason } });
    }
  });
}

/** Checks a model's folder again (admins) and records what was found. */
export async function checkModel(ctx: Ctx, modelId: string): Promise<ModelCheck> {
  authorize(ctx.actor, 'model.check');
  const model = await requireModel(ctx.db, modelId);
  const check = await inspectRegistered(model);
  await recordModelCheck(ctx.db, model, check, ctx.now(), ctx.actor.kind === 'user' ? ctx.actor.id : null);
  return check;
}

import { eq } from 'drizzle-orm';
import { inTransaction, type Db } from '../../../core/db.ts';
import { AppError, conflict, notFound } from '../../../core/errors.ts';
import { recordEvent } from '../../../core/history.ts';
import { classifiers, classifierTrainings } from '../classify.schema.ts';
import type { CrossValidationResult } from '../offline/cross-validate.ts';
import { trainInThread } from '../offline/training-thread.ts';
import { offlineSettingsOf } from './classifier-settings.ts';
import type { TrainingRow } from './classifier.queries.ts';
import { gatherTrainingExamples } from './training-examples.queries.ts';

/** The cross-validated figures stored with a training (the CV result without its per-example fold list). */
export type TrainingMetrics = Omit<CrossValidationResult, 'foldOf'> & {
  /** Behaviours whose figures are withheld, and why (too few examples to trust). */
  tooFew: { label: string; reason: string }[];
  /** Seconds spent cross-validating and training the final model. */
  seconds: { crossValidation: number; training: number };
  trainingMethods: string[];
};

export interface TrainOfflineProps {
  db: Db;
  now: () => Date;
  classifierId: string;
  /** Who asked for it (the training's `trained_by`). */
  userId: string;
  /** The background job doing it, or null when trained in a request. */
  jobId: string | null;
  signal?: AbortSignal;
  progress?: (done: number, total: number, message: string) => void;
}

export interface TrainOfflineOutcome {
  training: Omit<TrainingRow, 'model'>;
  metrics: TrainingMetrics;
}

/**
 * Trains an offline classifier from the accepted codings under its pinned version: cross-validates (progress per
 * fold), trains the final model on every example, then stores the immutable training and makes it the
 * classifier's current one, with its event, in one transaction. The computing happens in a worker thread
 * (offline/training-thread.ts). Refuses (validation_failed) when there is nothing to learn from: fewer than two
 * distinct observations, or no behaviour coded. Throws an Error named `AbortError` when the signal fires (the
 * thread is stopped at once; nothing is stored).
 */
export async function trainOfflineClassifier(props: TrainOfflineProps): Promise<TrainOfflineOutcome> {
  const classifier = await loadTrainable(props.db, props.classifierId);
  const settings = offlineSettingsOf(classifier.settings);
  const examples = await gatherTrainingExamples(props.db, classifier.ethogramVersionId, settings.trainingMethods);
  const distinct = new Set(examples.map((e) => e.text.trim().toLowerCase().replace(/\s+/g, ' '))).size;
  if (distinct < 2 || examples.every((e) => e.labels.length === 0)) {
    throw new AppError(
      'validation_failed',
      `There is not enough to learn from: ${examples.length} observation${examples.length === 1 ? '' : 's'} with accepted codings (${settings.trainingMethods.join(', ')}) under this classifier's ethogram version. Code more observations, or count more kinds of coding as training data.`,
      { examples: examples.length },
    );
  }
  const steps = Math.min(settings.folds, distinct) + 1;
  // Several seconds of CPU per fold at 10,000 examples: in a worker thread, so the server keeps answering.
  const result = await trainInThread(examples, {
    folds: settings.folds,
    minPositives: settings.minExamples,
    ...(props.signal ? { signal: props.signal } : {}),
    onFold: (done, total) => props.progress?.(done, total + 1, `Cross-validated fold ${done} of ${total}`),
  });
  const cv = result.figures;
  const metrics: TrainingMetrics = {
    ...cv,
    tooFew: cv.behaviours.filter((b) => !b.trustworthy).map((b) => ({ label: b.label, reason: b.reason ?? '' })),
    seconds: { crossValidation: round(result.seconds.crossValidation), training: round(result.seconds.training) },
    trainingMethods: settings.trainingMethods,
  };
  const training = await inTransaction(props.db, async (tx) => {
    const [current] = await tx.select().from(classifiers).where(eq(classifiers.id, props.classifierId)).for('update');
    if (!current || current.archivedAt) throw conflict('The classifier was archived while it trained; the training was not kept.');
    if (current.ethogramVersionId !== classifier.ethogramVersionId) {
      throw conflict('The classifier was pinned to another ethogram version while it trained; the training was not kept. Train it again.');
    }
    const [row] = await tx
      .insert(classifierTrainings)
      .values({
        classifierId: props.classifierId,
        jobId: props.jobId,
        exampleCount: examples.length,
        behaviourCount: result.labels,
        model: JSON.stringify(result.model),
        metrics: metrics as unknown as Record<string, unknown>,
        trainedBy: props.userId,
        createdAt: props.now(),
      })
      .returning();
    await tx.update(classifiers).set({ currentTrainingId: row!.id }).where(eq(classifiers.id, props.classifierId));
    await recordEvent(tx, {
      type: 'classifier.trained',
      entityType: 'classifier',
      entityId: props.classifierId,
      actorId: props.userId,
      payload: { trainingId: row!.id, jobId: props.jobId, examples: examples.length, behaviours: result.labels, overall: cv.overall },
    });
    const { model: _model, ...summary } = row!;
    return summary;
  });
  props.progress?.(steps, steps, `Trained on ${examples.length} examples`);
  return { training, metrics };
}

async function loadTrainable(db: Db, id: string) {
  const [row] = await db.select().from(classifiers).where(eq(classifiers.id, id));
  if (!row) throw notFound('That classifier');
  if (row.kind !== 'offline') throw conflict(`"${row.name}" is a ${row.kind === 'llm_judge' ? 'judge' : 'rules'} classifier; only offline classifiers are trained.`);
  if (row.archivedAt) throw conflict(`"${row.name}" is archived; archived classifiers are not trained.`);
  return row;
}

const round = (s: number) => Math.round(s * 1000) / 1000;

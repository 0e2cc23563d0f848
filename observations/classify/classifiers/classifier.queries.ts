import { and, asc, desc, eq, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../../core/db.ts';
import { invalid } from '../../../core/errors.ts';
import { jobs } from '../../../core/jobs/job.schema.ts';
import { behaviours, ethograms, ethogramVersions } from '../../../ethograms/ethogram.schema.ts';
import { classifiers, classifierTrainings, type ClassifierKind } from '../classify.schema.ts';

export type ClassifierRow = typeof classifiers.$inferSelect;
export type TrainingRow = typeof classifierTrainings.$inferSelect;
/** A training without its (large) model text. */
export type TrainingSummary = Omit<TrainingRow, 'model'>;

/** The ethogram version a classifier is pinned to, as lists show it. */
export interface PinnedVersionRef {
  id: string;
  number: number;
  status: 'draft' | 'published' | 'deprecated';
  slug: string;
  name: string;
}

export interface ClassifierWithContext {
  classifier: ClassifierRow;
  version: PinnedVersionRef;
  training: TrainingSummary | null;
}

const versionColumns = { id: ethogramVersions.id, number: ethogramVersions.number, status: ethogramVersions.status, slug: ethograms.slug, name: ethograms.name };
const trainingSummaryColumns = {
  id: classifierTrainings.id,
  classifierId: classifierTrainings.classifierId,
  jobId: classifierTrainings.jobId,
  exampleCount: classifierTrainings.exampleCount,
  behaviourCount: classifierTrainings.behaviourCount,
  metrics: classifierTrainings.metrics,
  trainedBy: classifierTrainings.trainedBy,
  createdAt: classifierTrainings.createdAt,
};

/** One classifier row, or undefined. */
export async function findClassifier(db: Db, id: string): Promise<ClassifierRow | undefined> {
  const [row] = await db.select().from(classifiers).where(eq(classifiers.id, id));
  return row;
}

/** Classifiers with their pinned version and current training (no model text), newest first within each kind. */
export async function listClassifiers(db: Db, filter: { kind?: ClassifierKind; archived?: 'true' | 'false' | 'include'; ids?: string[] } = {}): Promise<ClassifierWithContext[]> {
  const where: SQL[] = [];
  if (filter.kind) where.push(eq(classifiers.kind, filter.kind));
  if (filter.archived === 'true') where.push(isNotNull(classifiers.archivedAt));
  else if (filter.archived !== 'include') where.push(isNull(classifiers.archivedAt));
  if (filter.ids) where.push(inArray(classifiers.id, filter.ids.length ? filter.ids : ['00000000-0000-0000-0000-000000000000']));
  const rows = await db
    .select({ classifier: classifiers, version: versionColumns, training: trainingSummaryColumns })
    .from(classifiers)
    .innerJoin(ethogramVersions, eq(ethogramVersions.id, classifiers.ethogramVersionId))
    .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
    .leftJoin(classifierTrainings, eq(classifierTrainings.id, classifiers.currentTrainingId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(asc(classifiers.kind), desc(classifiers.createdAt), asc(classifiers.id));
  return rows.map((r) => ({ classifier: r.classifier, version: r.version, training: r.training?.id ? (r.training as TrainingSummary) : null }));
}

/** One classifier with its pinned version and current training, or undefined. */
export async function findClassifierWithContext(db: Db, id: string): Promise<ClassifierWithContext | undefined> {
  const [row] = await listClassifiers(db, { archived: 'include', ids: [id] });
  return row;
}

/** A training with its model text (for predicting), or undefined. */
export async function findTraining(db: Db, id: string): Promise<TrainingRow | undefined> {
  const [row] = await db.select().from(classifierTrainings).where(eq(classifierTrainings.id, id));
  return row;
}

/** A classifier's trainings, newest first, without the model text. */
export function listTrainings(db: Db, classifierId: string, limit = 20): Promise<TrainingSummary[]> {
  return db.select(trainingSummaryColumns).from(classifierTrainings).where(eq(classifierTrainings.classifierId, classifierId)).orderBy(desc(classifierTrainings.createdAt)).limit(limit);
}

/** Published ethogram versions a classifier can pin, newest first (for the forms). */
export function listPinnableVersions(db: Db): Promise<PinnedVersionRef[]> {
  return db
    .select(versionColumns)
    .from(ethogramVersions)
    .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
    .where(and(eq(ethogramVersions.status, 'published'), isNull(ethograms.deletedAt)))
    .orderBy(asc(ethograms.name), desc(ethogramVersions.number));
}

/**
 * The version a classifier is to be pinned to and its behaviour codes. Throws validation_failed on the
 * `ethogramVersionId` field when it does not exist or is not published (drafts change; deprecated versions are
 * being retired), so the person can choose another.
 */
export async function pinnableVersion(db: Db, versionId: string): Promise<{ version: PinnedVersionRef; codes: Set<string> }> {
  const [version] = await db
    .select(versionColumns)
    .from(ethogramVersions)
    .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
    .where(and(eq(ethogramVersions.id, versionId), isNull(ethograms.deletedAt)));
  if (!version) throw invalid('That ethogram version does not exist.', { ethogramVersionId: 'choose a published ethogram version' });
  if (version.status !== 'published') {
    throw invalid(`Version ${version.number} of ${version.name} is ${version.status}: a classifier codes against a published version, which cannot change under it.`, {
      ethogramVersionId: `version ${version.number} is ${version.status}; choose a published version`,
    });
  }
  return { version, codes: await versionCodes(db, versionId) };
}

/** The behaviour codes of a version. */
export async function versionCodes(db: Db, versionId: string): Promise<Set<string>> {
  const rows = await db.select({ code: behaviours.code }).from(behaviours).where(eq(behaviours.versionId, versionId));
  return new Set(rows.map((r) => r.code));
}

/** The behaviours of a version by code (names for the pages), in catalogue order. */
export async function versionBehaviourNames(db: Db, versionId: string): Promise<{ code: string; name: string }[]> {
  return db.select({ code: behaviours.code, name: behaviours.name }).from(behaviours).where(eq(behaviours.versionId, versionId)).orderBy(behaviours.position, behaviours.code);
}

/** How many classifiers exist of a kind for a version, archived ones included. */
export async function countClassifiers(db: Db, kind: ClassifierKind, versionId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(classifiers)
    .where(and(eq(classifiers.kind, kind), eq(classifiers.ethogramVersionId, versionId)));
  return row?.n ?? 0;
}

/** The unfinished (queued, running or paused) training job of a classifier, if any: one training at a time. */
export async function findOpenTrainingJob(db: Db, classifierId: string): Promise<{ id: string; status: string } | undefined> {
  const [row] = await db
    .select({ id: jobs.id, status: jobs.status })
    .from(jobs)
    .where(and(eq(jobs.kind, 'train-offline'), sql`${jobs.payload}->>'classifierId' = ${classifierId}`, inArray(jobs.status, ['queued', 'running', 'paused'])))
    .orderBy(desc(jobs.createdAt))
    .limit(1);
  return row;
}

import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../../core/db.ts';
import { AppError, notFound } from '../../../core/errors.ts';
import { behaviours, ethogramVersions, ethograms } from '../../../ethograms/ethogram.schema.ts';
import { transcriptSearchText } from '../../observation-text.ts';
import type { Transcript } from '../../transcript.schema.ts';
import { classifiers, classifierTrainings } from '../classify.schema.ts';
import { createJudge, parseJudgeSettings, type PinnedEthogramVersion, type QuoteSpan, type RejectedFinding } from '../judge/index.ts';
import { modelFromJson, predict } from '../offline/offline-classifier.ts';
import { behaviourCodesFor, DETECTORS, runDetectors } from '../rules/index.ts';

export type ClassifierRow = typeof classifiers.$inferSelect;

/** One observation as a runner reads it. */
export interface ItemInput {
  observationId: string;
  transcript: Transcript;
  /** The provider's stop reason, when the observation's provenance kept it (the rules read it). */
  stopReason?: string | undefined;
}

/** A coding a runner proposes: a behaviour code of the classifier's version, where, how sure, why, and how it was found. */
export interface Proposal {
  code: string;
  span: QuoteSpan | null;
  confidence: number | null;
  rationale: string;
  provenance: Record<string, unknown>;
}

/** What classifying one observation produced besides the proposals (kept on its item, summed for the job). */
export interface ItemOutcome {
  proposed: number;
  droppedQuotes: number;
  rejectedFindings: number;
  unclear: number;
  /** Findings whose behaviour code the classifier's version does not have (rules and offline), not proposed. */
  unmapped: number;
  inputTokens: number;
  outputTokens: number;
  /** Estimated USD; null when unknown (a model without a list price). */
  costUsd: number | null;
  /** The first few rejected judge findings (code, quote, reason), for the job's page. */
  rejected?: RejectedFinding[];
}

export interface ItemResult {
  proposals: Proposal[];
  outcome: ItemOutcome;
}

/** Classifies observations one at a time, for one classifier. */
export interface ClassifierRunner {
  /** Observations classified at once (the judge's bounded concurrency; 1 for the local kinds). */
  concurrency: number;
  /** Behaviour id by code, in the classifier's version. */
  behaviourIds: ReadonlyMap<string, string>;
  ethogramVersionId: string;
  method: 'llm_judge' | 'classifier' | 'rule';
  classify(item: ItemInput, signal: AbortSignal): Promise<ItemResult>;
}

/** The judge's default bounded concurrency: enough to hide latency, far from a request storm. */
export const DEFAULT_JUDGE_CONCURRENCY = 8;
const MAX_JUDGE_CONCURRENCY = 32;

const emptyOutcome = (): ItemOutcome => ({ proposed: 0, droppedQuotes: 0, rejectedFindings: 0, unclear: 0, unmapped: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });

/** Loads a classifier row, or throws not_found. */
export async function loadClassifier(db: Db, id: string): Promise<ClassifierRow> {
  const [row] = await db.select().from(classifiers).where(eq(classifiers.id, id));
  if (!row) throw notFound('That classifier');
  return row;
}

/** The classifier's ethogram version, pinned: its label and behaviours in ethogram order. */
export async function pinnedVersionOf(db: Db, versionId: string): Promise<PinnedEthogramVersion> {
  const [version] = await db
    .select({ id: ethogramVersions.id, number: ethogramVersions.number, name: ethograms.name })
    .from(ethogramVersions)
    .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
    .where(eq(ethogramVersions.id, versionId));
  if (!version) throw notFound("The classifier's ethogram version");
  const rows = await db.select().from(behaviours).where(eq(behaviours.versionId, versionId)).orderBy(asc(behaviours.position), asc(behaviours.code));
  return {
    id: version.id,
    label: `${version.name}, version ${version.number}`,
    behaviours: rows.map((b) => ({ code: b.code, name: b.name, kind: b.kind, definition: b.definition, inclusion: b.inclusion, exclusion: b.exclusion, examples: b.examples, status: b.status })),
  };
}

/**
 * The judge settings inside a classifier's settings: either `settings.judge`, or the settings themselves
 * (without the job options `concurrency`, which is the classifier's, not the judge's).
 */
export function judgeSettingsOf(settings: Record<string, unknown>): { judge: unknown; concurrency: number } {
  const { concurrency, judge, ...rest } = settings as { concurrency?: unknown; judge?: unknown };
  const n = typeof concurrency === 'number' && Number.isInteger(concurrency) ? Math.min(MAX_JUDGE_CONCURRENCY, Math.max(1, concurrency)) : DEFAULT_JUDGE_CONCURRENCY;
  return { judge: judge && typeof judge === 'object' ? judge : rest, concurrency: n };
}

/**
 * Builds the runner for a classifier from its row: the LLM judge (key read now: a missing key fails the job before
 * any request, naming the variable), the offline classifier's current training, or the rule detectors with their
 * mapping to the version's behaviour codes.
 */
export async function createRunner(db: Db, classifier: ClassifierRow, env: Readonly<Record<string, string | undefined>>): Promise<ClassifierRunner> {
  const version = await pinnedVersionOf(db, classifier.ethogramVersionId);
  const ids = await db.select({ id: behaviours.id, code: behaviours.code }).from(behaviours).where(and(eq(behaviours.versionId, version.id)));
  const behaviourIds = new Map(ids.map((b) => [b.code, b.id]));
  const codeOf = new Map(ids.map((b) => [b.code.toUpperCase(), b.code]));
  const base = { behaviourIds, ethogramVersionId: version.id };

  if (classifier.kind === 'llm_judge') {
    const { judge: judgeInput, concurrency } = judgeSettingsOf(classifier.settings);
    const judge = createJudge(parseJudgeSettings(judgeInput), { env });
    return {
      ...base,
      method: 'llm_judge',
      concurrency,
      async classify(item, signal) {
        const result = await judge.judge(version, item.transcript, { signal, unmatchedQuotes: 'drop' });
        const provenance = result.provenance as unknown as Record<string, unknown>;
        const proposals = result.findings.map((f) => ({
          code: f.code,
          span: f.span,
          confidence: f.confidence,
          rationale: f.rationale,
          provenance: { ...provenance, classifierId: classifier.id, quoteMatch: f.quoteMatch, judgeQuote: f.judgeQuote, judgeMessageId: f.judgeMessageId },
        }));
        const usage = result.provenance.usage;
        return {
          proposals,
          outcome: {
            ...emptyOutcome(),
            proposed: proposals.length,
            droppedQuotes: result.droppedQuotes,
            rejectedFindings: result.rejected.length,
            unclear: result.unclear.length,
            inputTokens: usage.inputTokens ?? 0,
            outputTokens: usage.outputTokens ?? 0,
            costUsd: result.provenance.cost.usd,
            ...(result.rejected.length ? { rejected: result.rejected.slice(0, 10) } : {}),
          },
        };
      },
    };
  }

  if (classifier.kind === 'offline') {
    if (!classifier.currentTrainingId) {
      throw new AppError('conflict', `The offline classifier "${classifier.name}" has not been trained yet: train it on its page, then classify.`);
    }
    const [training] = await db.select().from(classifierTrainings).where(eq(classifierTrainings.id, classifier.currentTrainingId));
    if (!training) throw new AppError('conflict', `The offline classifier "${classifier.name}" names a training that does not exist: train it again.`);
    const model = modelFromJson(JSON.parse(training.model));
    const threshold = typeof classifier.settings.threshold === 'number' ? classifier.settings.threshold : 0.5;
    return {
      ...base,
      method: 'classifier',
      concurrency: 1,
      async classify(item) {
        const outcome = emptyOutcome();
        const proposals: Proposal[] = [];
        for (const p of predict(model, transcriptSearchText(item.transcript))) {
          if (p.probability < threshold) continue;
          const code = codeOf.get(p.label.toUpperCase());
          if (!code) {
            outcome.unmapped++;
            continue;
          }
          const probability = Math.round(p.probability * 1000) / 1000;
          proposals.push({
            code,
            span: null,
            confidence: probability,
            rationale: `The offline classifier gives ${code} a probability of ${probability.toFixed(2)} for this transcript (threshold ${threshold}).`,
            provenance: { method: 'classifier', classifierId: classifier.id, trainingId: training.id, probability, threshold, ethogramVersionId: version.id },
          });
        }
        outcome.proposed = proposals.length;
        return { proposals, outcome };
      },
    };
  }

  const settings = classifier.settings as { detectors?: unknown; mapping?: unknown };
  const only = Array.isArray(settings.detectors) ? settings.detectors.filter((d): d is string => typeof d === 'string') : undefined;
  const unknownDetectors = (only ?? []).filter((d) => !DETECTORS.some((entry) => entry.id === d));
  if (unknownDetectors.length) throw new AppError('validation_failed', `The rules classifier "${classifier.name}" names unknown detectors: ${unknownDetectors.join(', ')}.`);
  const mapping = settings.mapping && typeof settings.mapping === 'object' ? (settings.mapping as Record<string, unknown>) : {};
  return {
    ...base,
    method: 'rule',
    concurrency: 1,
    async classify(item) {
      const outcome = emptyOutcome();
      const proposals: Proposal[] = [];
      for (const finding of runDetectors(item.transcript, { stopReason: item.stopReason }, only)) {
        const mapped = mapping[finding.code];
        // The stored mapping (classifiers/classifier-settings.ts) names one code or null (a rule flag only); without
        // an entry, the registry's default codes for the starter ethogram.
        const codes =
          typeof mapped === 'string' ? [mapped]
          : mapped === null ? []
          : Array.isArray(mapped) ? mapped.filter((c): c is string => typeof c === 'string')
          : behaviourCodesFor(finding);
        for (const wanted of codes) {
          const code = codeOf.get(wanted.toUpperCase());
          if (!code) {
            outcome.unmapped++;
            continue;
          }
          proposals.push({
            code,
            span: finding.span,
            confidence: finding.confidence,
            rationale: finding.explanation,
            provenance: { method: 'rule', classifierId: classifier.id, detector: finding.detector, finding: finding.code, measures: finding.measures, ethogramVersionId: version.id },
          });
        }
      }
      outcome.proposed = proposals.length;
      return { proposals, outcome };
    },
  };
}

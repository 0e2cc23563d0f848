import { AppError } from '../../core/errors.ts';
import { EngineError, inspectModelFolder, type ModelFolderReport } from '../index.ts';
import type { ModelShape } from './model.schema.ts';

/** Checks a folder with the engine; an engine refusal becomes a validation error on the `path` field, with its reason. */
export async function checkModelFolder(path: string): Promise<ModelFolderReport> {
  try {
    return await inspectModelFolder(path);
  } catch (error) {
    if (error instanceof EngineError) {
      throw new AppError('validation_failed', `That model folder cannot be used: ${error.message}`, { fields: { path: error.message }, reason: error.id });
    }
    throw error;
  }
}

/** The parts of a report the registry keeps as the model's shape. */
export function shapeOf(report: ModelFolderReport): ModelShape {
  const c = report.config;
  return {
    family: c.family,
    modelType: c.modelType,
    nLayers: c.nLayers,
    dModel: c.dModel,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dHead: c.dHead,
    dMlp: c.dMlp,
    dVocab: c.dVocab,
    nCtx: c.nCtx,
    dtypes: report.dtypes,
    weightFiles: report.weightFiles,
    tokenizerVocabSize: report.tokenizerVocabSize,
  };
}

import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./core/core.schema.ts', './accounts/account.schema.ts', './ethograms/ethogram.schema.ts', './ethograms/evolution/recode.schema.ts', './observations/observation.schema.ts', './observations/capture/capture.schema.ts', './observations/import.schema.ts', './core/jobs/job.schema.ts', './observations/classify/classify.schema.ts', './observations/review/assignment.schema.ts', './live/live.schema.ts', './experiments/models/model.schema.ts', './experiments/experiment.schema.ts', './analyses/analysis.schema.ts'],
  out: './server/db/migrations',
});

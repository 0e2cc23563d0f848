import express, { type Router } from 'express';
import type { AppDeps } from '../../app-deps.ts';
import { accountsApi } from './accounts.routes.ts';
import { agreementApi } from './agreement.routes.ts';
import { analysesApi } from './analyses.routes.ts';
import { assignmentsApi } from './assignments.routes.ts';
import { capturesApi } from './captures.routes.ts';
import { classifiersApi } from './classifiers.routes.ts';
import { ethogramsApi } from './ethograms.routes.ts';
import { ethogramEvolutionApi } from './ethogram-evolution.routes.ts';
import { experimentsApi } from './experiments.routes.ts';
import { exportsApi } from './exports.routes.ts';
import { importsApi } from './imports.routes.ts';
import { jobsApi } from './jobs.routes.ts';
import { liveApi } from './live.routes.ts';
import { liveSummaryApi } from './live-summary.routes.ts';
import { modelsApi } from './models.routes.ts';
import { observationsApi } from './observations.routes.ts';
import { openApiRoute } from './openapi.routes.ts';
import { reviewApi } from './review.routes.ts';
import { similarApi } from './similar.routes.ts';
import { tagsApi } from './tags.routes.ts';

/** The JSON API under /api/v1: one router per resource. */
export function apiRouter(deps: AppDeps): Router {
  const router = express.Router();
  // Before observations: `/observations/export.jsonl` is not an observation id.
  router.use(exportsApi(deps));
  // Observations next: express tries routes in order, and POST /observations (ingestion) is the busiest.
  router.use(observationsApi(deps));
  router.use(accountsApi(deps));
  router.use(ethogramsApi(deps));
  router.use(ethogramEvolutionApi(deps));
  router.use(similarApi(deps));
  router.use(tagsApi(deps));
  router.use(importsApi(deps));
  router.use(capturesApi(deps));
  router.use(jobsApi(deps));
  router.use(agreementApi(deps));
  router.use(analysesApi(deps));
  router.use(classifiersApi(deps));
  router.use(reviewApi(deps));
  router.use(assignmentsApi(deps));
  router.use(liveApi(deps));
  router.use(liveSummaryApi(deps));
  router.use(modelsApi(deps));
  router.use(experimentsApi(deps));
  router.use(openApiRoute(deps));
  return router;
}

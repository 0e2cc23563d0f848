import express, { type Router } from 'express';
import type { AppDeps } from '../app-deps.ts';
import { accountPages } from './account.pages.ts';
import { agreementPages } from './agreement.pages.ts';
import { analysisPages } from './analyses.pages.ts';
import { adminPages } from './admin.pages.ts';
import { apiDocsPage } from './api-docs.page.ts';
import { assignmentPages } from './assignments.pages.ts';
import { authPages } from './auth.pages.ts';
import { capturePages } from './captures.pages.ts';
import { classifierPages } from './classifiers.pages.ts';
import { ethogramPages } from './ethograms.pages.ts';
import { ethogramEvolutionPages } from './ethogram-evolution.pages.ts';
import { experimentPages } from './experiments.pages.ts';
import { homePage } from './home.page.ts';
import { importPages } from './imports.pages.ts';
import { jobPages } from './jobs.pages.ts';
import { livePages } from './live.pages.ts';
import { liveSummaryPages } from './live-summary.pages.ts';
import { observationPages } from './observations.pages.ts';
import { reviewPages } from './review.pages.ts';
import { suggestionPages } from './suggestions.pages.ts';

/** Server-rendered pages; each controller parses, loads, authorizes, calls the same commands as the API, renders. */
export function pagesRouter(deps: AppDeps): Router {
  const router = express.Router();
  router.use(homePage(deps));
  router.use(authPages(deps));
  router.use(accountPages(deps));
  router.use(adminPages(deps));
  router.use(apiDocsPage(deps));
  router.use(ethogramPages(deps));
  router.use(ethogramEvolutionPages(deps));
  router.use(observationPages(deps));
  router.use(importPages(deps));
  router.use(jobPages(deps));
  router.use(capturePages(deps));
  router.use(classifierPages(deps));
  router.use(agreementPages(deps));
  router.use(suggestionPages(deps));
  router.use(reviewPages(deps));
  router.use(assignmentPages(deps));
  router.use(liveSummaryPages(deps));
  router.use(livePages(deps));
  router.use(experimentPages(deps));
  router.use(analysisPages(deps));
  return router;
}

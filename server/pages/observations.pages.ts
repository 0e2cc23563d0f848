import express, { type Router } from 'express';
import type { AppDeps } from '../app-deps.ts';
import { observationFormPages } from './observations/form.pages.ts';
import { observationListPage } from './observations/list.pages.ts';
import { observationShowPages } from './observations/show.pages.ts';
import { trashPage } from './observations/trash.pages.ts';

/**
 * The observation pages: list and search, the form (new and edit, with a preview), the observation with its
 * transcript viewer and coding, history, and the admin trash. They call the same commands and queries as the API.
 */
export function observationPages(deps: AppDeps): Router {
  const router = express.Router();
  // The form router first: `/observations/new` must not be read as an observation id.
  router.use(observationFormPages(deps));
  router.use(observationListPage(deps));
  router.use(observationShowPages(deps));
  router.use(trashPage(deps));
  return router;
}

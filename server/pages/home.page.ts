import express, { type Router } from 'express';
import type { AppDeps } from '../app-deps.ts';

/** The front page: what Menagerie is and where to start. */
export function homePage(_deps: AppDeps): Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.render('pages/home', { title: 'Menagerie' });
  });
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  return router;
}

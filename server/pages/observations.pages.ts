import express, { type Router } from 'express';
import type { AppDeps } from '../app-deps.ts';

export function observationPages(_deps: AppDeps): Router {
  const router = express.Router();
  return router;
}

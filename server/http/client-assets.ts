import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import express, { type Router } from 'express';

/**
 * Serves the small client bundle (client/main.ts, bundled by esbuild on first request and cached) and the
 * stylesheet. Pages work without it; the bundle only enhances them.
 */
export function clientAssets(clientDir: string): Router {
  const router = express.Router();
  let bundle: string | undefined;
  router.get('/app.js', (_req, res) => {
    bundle ??= buildSync({
      entryPoints: [path.join(clientDir, 'main.ts')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      legalComments: 'none',
    }).outputFiles[0]!.text;
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(bundle);
  });
  let css: string | undefined;
  router.get('/app.css', (_req, res) => {
    css ??= readFileSync(path.join(clientDir, 'styles.css'), 'utf8');
    res.type('text/css').set('Cache-Control', 'no-cache').send(css);
  });
  return router;
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';
import express, { type Router } from 'express';

const require = createRequire(import.meta.url);

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
  // The analysis charts (client/charts/, Observable Plot): a bundle of their own, imported on demand by the `chart`
  // enhancer, so pages without charts never load Plot.
  let charts: string | undefined;
  router.get('/charts.js', (_req, res) => {
    charts ??= buildSync({
      entryPoints: [path.join(clientDir, 'charts', 'index.ts')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      legalComments: 'none',
    }).outputFiles[0]!.text;
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(charts);
  });
  // The socket.io client, as the socket.io package ships it (ES module): pages that follow live updates load it
  // on demand (`import('/assets/socket.io.js')`), so the main bundle stays small.
  let socketClient: string | undefined;
  router.get('/socket.io.js', (_req, res) => {
    socketClient ??= readFileSync(path.join(path.dirname(require.resolve('socket.io/package.json')), 'client-dist/socket.io.esm.min.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/, '');
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(socketClient);
  });
  let css: string | undefined;
  router.get('/app.css', (_req, res) => {
    css ??= readFileSync(path.join(clientDir, 'styles.css'), 'utf8');
    res.type('text/css').set('Cache-Control', 'no-cache').send(css);
  });
  return router;
}

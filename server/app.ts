import { createServer, type Server as HttpServer } from 'node:http';
import path from 'node:path';
import express, { type Request } from 'express';
import { Server as SocketServer } from 'socket.io';
import { AppError } from '../core/errors.ts';
import { CaptureLog } from '../observations/capture/capture-log.ts';
import type { AppDeps } from './app-deps.ts';
import { clientAssets } from './http/client-assets.ts';
import { FLASH_COOKIE, readCookies } from './http/cookies.ts';
import { authenticate } from './http/middleware/authenticate.ts';
import { csrfToken, verifyCsrf } from './http/middleware/csrf.ts';
import { errorHandler } from './http/middleware/errors.ts';
import { jsonBody } from './http/middleware/json-body.ts';
import { apiRouter } from './http/routes/api.routes.ts';
import { importUploads } from './http/routes/import-uploads.routes.ts';
import { captureUploadBody } from './http/routes/captures.routes.ts';
import { otlpReceiver } from './http/routes/otlp.routes.ts';
import { recordingProxy } from './http/routes/proxy.routes.ts';
import { ImportQueue } from './imports/import-queue.ts';
import { createJobRuntime, type JobRuntime } from './jobs/job-runtime.ts';
import { pagesRouter } from './pages/pages.router.ts';
import { ethogramBorisUpload } from './pages/ethogram-boris-upload.ts';
import { attachImportRealtime } from './realtime/imports.realtime.ts';
import { attachJobRealtime } from './realtime/jobs.realtime.ts';
import { attachLiveRealtime } from './realtime/live.realtime.ts';
import type { LiveRuntime } from '../live/live-runtime.ts';
import { attachRealtime } from './realtime/realtime.ts';
import { createViewEngine, viewsDir } from './views/engine.ts';

export interface App {
  express: express.Express;
  http: HttpServer;
  io: SocketServer;
  /** The field log's write queue (the recording proxy's captures): `drain()` waits until all are written. */
  captureLog: CaptureLog;
  /** Background jobs: the handler registry, the in-process worker (unless disabled) and change events. */
  jobs: JobRuntime;
  /** Live sessions served by this process: the log writer and the model streams it runs. */
  live: LiveRuntime;
  /** Closes sockets and the HTTP server, then writes the captures still queued (the database is the caller's to close). */
  close(): Promise<void>;
}

/** Builds the whole application from its dependencies without listening or touching globals. */
export function createApp(deps: AppDeps): App {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.engine('hbs', createViewEngine());
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);

  // The recording proxy streams raw bodies both ways and answers with the upstream's own headers: it runs before
  // the site's headers and body parsers.
  const captureLog = new CaptureLog({ db: deps.db, now: deps.now, logger: deps.logger });
  const proxy = recordingProxy(deps, captureLog);
  app.use('/proxy', (req, res) => proxy.handle(req, res));

  app.use((_req, res, next) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    });
    next();
  });
  app.use('/assets', clientAssets(path.resolve(viewsDir, '../../client')));
  // The OTLP receiver (/v1/traces) parses its own body and answers errors as OTLP clients expect (JSON, never a page).
  app.use(otlpReceiver(deps));
  // Captures carry two raw bodies: POST /api/v1/captures reads its JSON with a larger limit, once authenticated.
  app.use(captureUploadBody(deps));
  // Import uploads stream their bodies to a temporary file (never held whole): also before the body parsers.
  const imports = new ImportQueue({ db: deps.db, now: deps.now, logger: deps.logger, maxBytes: deps.config.importMaxBytes });
  app.use(importUploads(deps, imports));
  // The BORIS project form on /ethograms uploads a file (.boris.gz cannot be pasted): it parses its own body too.
  app.use(ethogramBorisUpload(deps));
  // Background jobs (classification...): created before the routes, which find it with jobRuntimeOf(deps).
  const jobs = createJobRuntime(deps);

  app.use(jsonBody(deps.config.bodyLimit));
  app.use(express.urlencoded({ extended: false, limit: deps.config.bodyLimit, parameterLimit: 5000 }));
  app.use(authenticate(deps));
  app.use((req, res, next) => {
    // Pages read these; computing the CSRF token lazily would need a getter the templates cannot see.
    if (!req.path.startsWith('/api/')) {
      res.locals.csrfToken = csrfToken(req, res, deps);
      res.locals.actor = req.auth.actor;
      res.locals.signedIn = req.auth.actor.kind === 'user';
      res.locals.currentPath = req.path;
      res.locals.isResearcher = req.auth.actor.kind === 'user' && req.auth.actor.role !== 'contributor';
      res.locals.isAdmin = req.auth.actor.kind === 'user' && req.auth.actor.role === 'admin';
      const flashMessage = readCookies(req)[FLASH_COOKIE];
      if (flashMessage) {
        res.locals.flash = flashMessage.slice(0, 300);
        res.clearCookie(FLASH_COOKIE, { path: '/' });
      }
    }
    next();
  });
  app.use(verifyCsrf(deps));

  app.use('/api/v1', apiRouter(deps));
  app.use('/', pagesRouter(deps));
  app.use((req, _res, next) => next(new AppError('not_found', `Nothing lives at ${req.method} ${req.path}.`)));
  app.use(errorHandler(deps));

  const http = createServer(app);
  // Outlive clients' idle keep-alive sockets (undici keeps them 4 s) so a client never reuses a socket the server
  // is closing at that moment (ECONNRESET); the usual setting behind proxies too.
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  const io = new SocketServer(http, { serveClient: false, maxHttpBufferSize: deps.config.bodyLimit });
  if (deps.realtimeAdapter) io.adapter(deps.realtimeAdapter.adapter);
  attachRealtime(io, deps);
  const live = attachLiveRealtime(io, deps);
  attachImportRealtime(io, deps, imports);
  const jobRealtime = attachJobRealtime(io, deps, jobs);

  return {
    express: app,
    http,
    io,
    captureLog,
    jobs,
    live,
    close: async () => {
      // Answers being streamed end as stopped (their text so far is kept) while the database is still open.
      await live.close();
      // Running jobs stop between items and go back to the queue while the database is still open.
      jobRealtime.close();
      await jobs.stop();
      // Running imports stop between records (and are marked failed) while the database is still open.
      await imports.close();
      await new Promise<void>((resolve) => {
        io.close();
        http.closeAllConnections?.();
        http.close(() => resolve());
      });
      await captureLog.close();
      proxy.close();
    },
  };
}

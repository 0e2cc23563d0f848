import express, { type Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { listVersionBehaviours } from '../../../ethograms/behaviour.queries.ts';
import { loadVisibleEthogram, loadVisibleVersion } from '../../../ethograms/ethogram.access.ts';
import type { Migration } from '../../../ethograms/ethogram-document.schema.ts';
import { codingsAsOf } from '../../../ethograms/evolution/as-of.queries.ts';
import { presentChanges } from '../../../ethograms/evolution/changes.presenter.ts';
import { recodeQueue } from '../../../ethograms/evolution/recode.queries.ts';
import { resolveRecode, resolveRecodeInput } from '../../../ethograms/evolution/resolve-recode.command.ts';
import { setMigrations, setMigrationsInput } from '../../../ethograms/evolution/set-migrations.command.ts';
import { draftChanges } from '../../../ethograms/evolution/version-changes.ts';
import { loadObservationRef } from '../../../observations/observation.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseOrThrow } from '../validate.ts';

export const recodeQueueQuery = z
  .object({
    status: z.enum(['open', 'resolved']).default('open'),
    after: z.string().regex(/^[0-9T:.\-Z]+_[0-9a-f-]{36}$/, 'after must be the `next` cursor of the previous page').optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

/**
 * How an ethogram evolves: a version's changes against the one it was opened from (with the migrations a draft
 * declares), the recode queue that splits and redefinitions leave, and codings read as of any version.
 */
export function ethogramEvolutionApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/ethograms/:slug/versions/:number/changes', async (req, res) => {
    const { version } = await loadVisibleVersion(deps.db, req.auth.actor, String(req.params.slug), req.params.number);
    const rows = await listVersionBehaviours(deps.db, version.id);
    // A published version is compared with the version it was opened from, as it was when it was published.
    const changes = await draftChanges(deps.db, version.ethogramId, rows, version.migrations as Migration[], version.status === 'draft' ? undefined : version.number);
    res.json(presentChanges(version, rows, changes));
  });

  router.put('/ethograms/:slug/versions/:number/migrations', async (req, res) => {
    const { version } = await loadVisibleVersion(deps.db, req.auth.actor, String(req.params.slug), req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const input = parseOrThrow(setMigrationsInput, req.body ?? {}, 'The migrations');
    const saved = await setMigrations(ctxOf(req, deps), version.id, input);
    const rows = await listVersionBehaviours(deps.db, saved.id);
    res.json(presentChanges(saved, rows, await draftChanges(deps.db, saved.ethogramId, rows, saved.migrations as Migration[])));
  });

  router.get('/ethograms/:slug/versions/:number/mappings.csv', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, String(req.params.slug), req.params.number);
    const rows = await listVersionBehaviours(deps.db, version.id);
    const lines = [['code', 'name', 'scheme', 'ref'], ...rows.flatMap((b) => b.mappings.map((m) => [b.code, b.name, m.scheme, m.ref]))];
    res
      .type('text/csv')
      .set('Content-Disposition', `attachment; filename="${ethogram.slug}-v${version.number}-mappings.csv"`)
      .send(lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n');
  });

  router.get('/ethograms/:slug/recode-queue', async (req, res) => {
    const { ethogram } = await loadVisibleEthogram(deps.db, req.auth.actor, String(req.params.slug));
    authorize(req.auth.actor, 'ethogram.recode');
    const query = parseOrThrow(recodeQueueQuery, req.query, 'The query');
    res.json(await recodeQueue(deps.db, ethogram.id, query));
  });

  router.post('/recode-items/:id/resolve', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.recode');
    const id = parseOrThrow(z.uuid('That is not a recode item id.'), req.params.id, 'The recode item');
    const input = parseOrThrow(resolveRecodeInput, req.body ?? {}, 'The decision');
    res.json(await resolveRecode(ctxOf(req, deps), id, input));
  });

  router.get('/observations/:id/codings/as-of/:slug/:number', async (req, res) => {
    const id = parseOrThrow(z.uuid('That is not an observation id.'), req.params.id, 'The observation');
    const ref = await loadObservationRef(deps.db, id);
    if (!ref) throw notFound('That observation');
    authorize(req.auth.actor, 'observation.read', ref);
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, String(req.params.slug), req.params.number);
    const data = await codingsAsOf(deps.db, id, ethogram.id, version.number);
    if (!data) throw notFound(`Version ${version.number} among the published versions of ${ethogram.slug}`);
    res.json({ ethogram: ethogram.slug, version: version.number, data });
  });

  return router;
}

/** One RFC 4180 cell; text a spreadsheet would run as a formula is prefixed with a quote mark. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

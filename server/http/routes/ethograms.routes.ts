import express, { type Request, type Router } from 'express';
import { notFound } from '../../../core/errors.ts';
import { authorize, can } from '../../../core/policy.ts';
import { findBehaviourByCode, listVersionBehaviours } from '../../../ethograms/behaviour.queries.ts';
import { createDraft } from '../../../ethograms/create-draft.command.ts';
import { createEthogram } from '../../../ethograms/create-ethogram.command.ts';
import { deleteBehaviour } from '../../../ethograms/delete-behaviour.command.ts';
import { deprecateVersion } from '../../../ethograms/deprecate-version.command.ts';
import { discardDraft } from '../../../ethograms/discard-draft.command.ts';
import { loadVisibleEthogram, loadVisibleVersion } from '../../../ethograms/ethogram.access.ts';
import { behaviourInput, createEthogramInput, importDocumentInput, importOptionsInput, updateDraftInput } from '../../../ethograms/ethogram.input.ts';
import { presentBehaviour, presentEthogram, presentEthogramSummary, presentVersion } from '../../../ethograms/ethogram.presenter.ts';
import { listEthogramsWithVersions } from '../../../ethograms/ethogram.queries.ts';
import { importEthogram } from '../../../ethograms/import-ethogram.command.ts';
import { publishVersion } from '../../../ethograms/publish-version.command.ts';
import { updateDraft } from '../../../ethograms/update-draft.command.ts';
import { documentProblems, versionDocument, type EthogramRow, type VersionRow } from '../../../ethograms/version-document.ts';
import { upsertBehaviour } from '../../../ethograms/upsert-behaviour.command.ts';
import { importBorisEthogram } from '../../../ethograms/boris/import-boris.command.ts';
import { borisFileName, versionBorisProject } from '../../../ethograms/boris/version-boris.query.ts';
import { exportFormatQuery, readEthogramImportBody } from '../ethogram-import-body.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseOrThrow } from '../validate.ts';

/**
 * Ethograms: the catalogue, versions (draft -> published -> deprecated) and their behaviours, import and
 * export as `menagerie.ethogram/v1` documents. Published versions are public; drafts exist (404 otherwise)
 * only for researchers and admins. Every route: parse -> load (with visibility) -> authorize -> command -> present.
 */
export function ethogramsApi(deps: AppDeps): Router {
  const router = express.Router();

  const versionPath = (slug: string, number: number) => `/api/v1/ethograms/${slug}/versions/${number}`;
  const versionBody = async (ethogram: EthogramRow, version: VersionRow) => {
    const rows = await listVersionBehaviours(deps.db, version.id);
    const problems = version.status === 'draft' ? documentProblems(versionDocument(ethogram, version, rows)) : undefined;
    return presentVersion(ethogram, version, rows, problems);
  };
  const load = (req: Request) => loadVisibleVersion(deps.db, req.auth.actor, String(req.params.slug), req.params.number);

  router.get('/ethograms', async (req, res) => {
    const actor = req.auth.actor;
    const data = (await listEthogramsWithVersions(deps.db))
      .map(({ ethogram, versions }) => ({ ethogram, versions: versions.filter((v) => can(actor, 'ethogram.read', v)) }))
      .filter(({ versions }) => versions.length > 0)
      .map(({ ethogram, versions }) => presentEthogramSummary(actor, ethogram, versions));
    res.json({ data });
  });

  router.post('/ethograms', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.create');
    const input = parseOrThrow(createEthogramInput, req.body ?? {}, 'The ethogram');
    const { ethogram, version } = await createEthogram(ctxOf(req, deps), input);
    res.status(201).location(`/api/v1/ethograms/${ethogram.slug}`).json(presentEthogram(ethogram, [{ ...version, behaviourCount: 0 }]));
  });

  router.post('/ethograms/import', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.create');
    const options = parseOrThrow(importOptionsInput, req.query, 'The import options');
    if (options.publish) authorize(req.auth.actor, 'ethogram.publish', { status: 'draft' });
    // A BORIS project (.boris JSON or .boris.gz) is told apart by its keys or by ?format=boris.
    const upload = await readEthogramImportBody(req, deps.config.bodyLimit);
    if (upload.format === 'boris') {
      const imported = await importBorisEthogram(ctxOf(req, deps), { project: upload.body, slug: upload.slug, ...options });
      res
        .status(201)
        .location(versionPath(imported.ethogram.slug, imported.version.number))
        .json({ ...(await versionBody(imported.ethogram, imported.version)), created: imported.created, boris: { notes: imported.notes, missing: imported.missing } });
      return;
    }
    const document = parseOrThrow(importDocumentInput, upload.body ?? {}, 'The ethogram document');
    const imported = await importEthogram(ctxOf(req, deps), { document, ...options });
    res
      .status(201)
      .location(versionPath(imported.ethogram.slug, imported.version.number))
      .json({ ...(await versionBody(imported.ethogram, imported.version)), created: imported.created });
  });

  router.get('/ethograms/:slug', async (req, res) => {
    const { ethogram, versions } = await loadVisibleEthogram(deps.db, req.auth.actor, req.params.slug);
    res.json(presentEthogram(ethogram, versions));
  });

  router.post('/ethograms/:slug/drafts', async (req, res) => {
    const { ethogram } = await loadVisibleEthogram(deps.db, req.auth.actor, req.params.slug);
    authorize(req.auth.actor, 'ethogram.edit', { status: 'draft' });
    const draft = await createDraft(ctxOf(req, deps), ethogram.id);
    res.status(201).location(versionPath(ethogram.slug, draft.number)).json(await versionBody(ethogram, draft));
  });

  router.get('/ethograms/:slug/versions/:number', async (req, res) => {
    const { ethogram, version } = await load(req);
    res.json(await versionBody(ethogram, version));
  });

  router.get('/ethograms/:slug/versions/:number/export', async (req, res) => {
    const { ethogram, version } = await load(req);
    const { format } = parseOrThrow(exportFormatQuery, req.query, 'The export options');
    if (format === 'boris') {
      const project = await versionBorisProject(deps.db, ethogram, version);
      res.set('Content-Disposition', `attachment; filename="${borisFileName(ethogram, version)}"`).json(project);
      return;
    }
    const document = versionDocument(ethogram, version, await listVersionBehaviours(deps.db, version.id));
    res.set('Content-Disposition', `attachment; filename="${ethogram.slug}-v${version.number}.ethogram.json"`).json(document);
  });

  router.patch('/ethograms/:slug/versions/:number', async (req, res) => {
    const { ethogram, version } = await load(req);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const input = parseOrThrow(updateDraftInput, req.body ?? {}, 'The draft');
    const updated = await updateDraft(ctxOf(req, deps), version.id, input);
    res.json(await versionBody(ethogram, updated));
  });

  router.delete('/ethograms/:slug/versions/:number', async (req, res) => {
    const { version } = await load(req);
    authorize(req.auth.actor, 'ethogram.edit', version);
    await discardDraft(ctxOf(req, deps), version.id);
    res.status(204).end();
  });

  router.post('/ethograms/:slug/versions/:number/publish', async (req, res) => {
    const { ethogram, version } = await load(req);
    authorize(req.auth.actor, 'ethogram.publish', version);
    const published = await publishVersion(ctxOf(req, deps), version.id);
    res.json(await versionBody(ethogram, published));
  });

  router.post('/ethograms/:slug/versions/:number/deprecate', async (req, res) => {
    const { ethogram, version } = await load(req);
    authorize(req.auth.actor, 'ethogram.deprecate', version);
    const deprecated = await deprecateVersion(ctxOf(req, deps), version.id);
    res.json(await versionBody(ethogram, deprecated));
  });

  router.get('/ethograms/:slug/versions/:number/behaviours/:code', async (req, res) => {
    const { version } = await load(req);
    const behaviour = await findBehaviourByCode(deps.db, version.id, req.params.code);
    if (!behaviour) throw notFound(`The behaviour ${req.params.code}`);
    res.json(presentBehaviour(behaviour));
  });

  router.put('/ethograms/:slug/versions/:number/behaviours/:code', async (req, res) => {
    const { version } = await load(req);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const input = parseOrThrow(behaviourInput, req.body ?? {}, 'The behaviour');
    const { behaviour, created } = await upsertBehaviour(ctxOf(req, deps), version.id, req.params.code, input);
    res.status(created ? 201 : 200).json(presentBehaviour(behaviour));
  });

  router.delete('/ethograms/:slug/versions/:number/behaviours/:code', async (req, res) => {
    const { version } = await load(req);
    authorize(req.auth.actor, 'ethogram.edit', version);
    await deleteBehaviour(ctxOf(req, deps), version.id, req.params.code);
    res.status(204).end();
  });

  return router;
}

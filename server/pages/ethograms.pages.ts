import express, { type Request, type Response, type Router } from 'express';
import type { Actor } from '../../accounts/actor.ts';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { findBehaviourByCode, listVersionBehaviours } from '../../ethograms/behaviour.queries.ts';
import { createDraft } from '../../ethograms/create-draft.command.ts';
import { createEthogram } from '../../ethograms/create-ethogram.command.ts';
import { deleteBehaviour } from '../../ethograms/delete-behaviour.command.ts';
import { deprecateVersion } from '../../ethograms/deprecate-version.command.ts';
import { discardDraft } from '../../ethograms/discard-draft.command.ts';
import { behaviourKinds, behaviourStatuses, mappingSchemes } from '../../ethograms/ethogram-document.schema.ts';
import { loadVisibleEthogram, loadVisibleVersion } from '../../ethograms/ethogram.access.ts';
import { behaviourInput, createEthogramInput, importDocumentInput, importOptionsInput, updateDraftInput } from '../../ethograms/ethogram.input.ts';
import { presentBehaviour, presentEthogram, presentEthogramSummary, presentVersion } from '../../ethograms/ethogram.presenter.ts';
import { listEthogramsWithVersions } from '../../ethograms/ethogram.queries.ts';
import { importEthogram } from '../../ethograms/import-ethogram.command.ts';
import { publishVersion } from '../../ethograms/publish-version.command.ts';
import { updateDraft } from '../../ethograms/update-draft.command.ts';
import { upsertBehaviour } from '../../ethograms/upsert-behaviour.command.ts';
import { documentProblems, versionDocument, type EthogramRow, type VersionRow } from '../../ethograms/version-document.ts';
import type { AppDeps } from '../app-deps.ts';
import { experimentsPanel } from './experiments-panel.ts';
import { versionCitation } from './ethogram-cite.ts';
import { borisImportedMessage } from './ethogram-boris-upload.ts';
import { importBorisEthogram } from '../../ethograms/boris/import-boris.command.ts';
import { looksLikeBorisProject } from '../../ethograms/boris/read-boris-file.ts';
import { csrfToken } from '../http/middleware/csrf.ts';
import { ctxOf } from '../http/request-context.ts';
import {
  behaviourFormEcho,
  behaviourFormFields,
  behaviourFormValues,
  behaviourInputFromForm,
  draftFormFields,
  draftFormValues,
  draftInputFromForm,
  formFieldErrors,
} from './ethogram-forms.ts';
import { flash, rerenderForm } from './form.ts';

type FormBody = Record<string, unknown>;

/** The same error with its field messages folded onto the form's fields. */
function foldedFor(err: unknown, fields: readonly string[]): unknown {
  if (!(err instanceof AppError) || !err.details?.fields) return err;
  return new AppError(err.id, err.message, { ...err.details, fields: formFieldErrors(err.details.fields, fields) });
}

/** Errors a button (publish, deprecate, new draft...) reports back as a message on the page it came from. */
const reportable = (err: unknown): err is AppError => err instanceof AppError && ['conflict', 'immutable', 'validation_failed'].includes(err.id);

/**
 * Ethogram pages: the catalogue, one ethogram's versions, a version's behaviours grouped by category, and one
 * behaviour. Researchers get forms to create, import, edit drafts, publish and deprecate; they call the same
 * commands as the JSON API. Everything works without JavaScript.
 */
export function ethogramPages(deps: AppDeps): Router {
  const router = express.Router();
  const base = (slug: string, number?: number) => `/ethograms/${slug}${number !== undefined ? `/versions/${number}` : ''}`;
  /** A page shown again after a POST needs what the layout reads, which the app only sets up for GETs. */
  const keepCsrf = (req: Request, res: Response) => {
    const actor = req.auth.actor;
    Object.assign(res.locals, {
      csrfToken: csrfToken(req, res, deps),
      actor,
      signedIn: actor.kind === 'user',
      currentPath: req.path,
      isResearcher: actor.kind === 'user' && actor.role !== 'contributor',
      isAdmin: actor.kind === 'user' && actor.role === 'admin',
    });
  };
  /** Forms exist only on drafts: an error on any other version goes to the error page. */
  const draftOnly = (version: VersionRow, err: unknown) => {
    if (version.status !== 'draft') throw err;
  };

  async function listData(actor: Actor) {
    return (await listEthogramsWithVersions(deps.db))
      .map(({ ethogram, versions }) => ({ ethogram, versions: versions.filter((v) => can(actor, 'ethogram.read', v)) }))
      .filter(({ versions }) => versions.length > 0)
      .map(({ ethogram, versions }) => presentEthogramSummary(actor, ethogram, versions));
  }

  async function renderList(req: Request, res: Response, extra: Record<string, unknown> = {}, err?: unknown) {
    const data = {
      title: 'Ethograms',
      ethograms: await listData(req.auth.actor),
      canCreate: can(req.auth.actor, 'ethogram.create'),
      values: {},
      importValues: { publish: false, newVersion: false },
      ...extra,
    };
    if (err) return rerenderForm(res, 'pages/ethograms', err, data);
    res.render('pages/ethograms', data);
  }

  router.get('/ethograms', (req, res) => renderList(req, res));

  router.post('/ethograms', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.create');
    const body: FormBody = req.body ?? {};
    try {
      const input = parseOrThrow(createEthogramInput, { slug: body.slug, name: body.name, description: body.description ?? '' }, 'The new ethogram');
      const { ethogram } = await createEthogram(ctxOf(req, deps), input);
      flash(res, `Created ${ethogram.name}. Add categories, then behaviours, then publish.`);
      res.redirect(303, base(ethogram.slug, 1));
    } catch (err) {
      keepCsrf(req, res);
      await renderList(req, res, { failedForm: 'create', values: { slug: body.slug, name: body.name, description: body.description } }, err);
    }
  });

  router.post('/ethograms/import', async (req, res) => {
    authorize(req.auth.actor, 'ethogram.create');
    const body: FormBody = req.body ?? {};
    const options = parseOrThrow(importOptionsInput, { publish: body.publish ?? false, newVersion: body.newVersion ?? false }, 'The import options');
    try {
      if (options.publish) authorize(req.auth.actor, 'ethogram.publish', { status: 'draft' });
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(body.document ?? ''));
      } catch (err) {
        throw new AppError('validation_failed', `The document is not valid JSON: ${(err as Error).message}.`, { fields: { document: 'Paste a JSON document.' } });
      }
      if (looksLikeBorisProject(parsed)) {
        const imported = await importBorisEthogram(ctxOf(req, deps), { project: parsed, ...options });
        flash(res, borisImportedMessage(imported));
        res.redirect(303, base(imported.ethogram.slug, imported.version.number));
        return;
      }
      const document = parseOrThrow(importDocumentInput, parsed, 'The ethogram document');
      const imported = await importEthogram(ctxOf(req, deps), { document, ...options });
      flash(res, `Imported ${imported.behaviours} behaviours as version ${imported.version.number} (${imported.version.status}) of ${imported.ethogram.name}.`);
      res.redirect(303, base(imported.ethogram.slug, imported.version.number));
    } catch (err) {
      keepCsrf(req, res);
      await renderList(req, res, { failedForm: 'import', importValues: { document: body.document, ...options } }, err);
    }
  });

  router.get('/ethograms/:slug', async (req, res) => {
    const actor = req.auth.actor;
    const { ethogram, versions } = await loadVisibleEthogram(deps.db, actor, req.params.slug);
    const presented = presentEthogram(ethogram, versions);
    res.render('pages/ethogram', {
      title: ethogram.name,
      ethogram: presented,
      canEdit: can(actor, 'ethogram.edit', { status: 'draft' }),
      canDeprecate: can(actor, 'ethogram.deprecate', { status: 'published' }),
      hasDraft: versions.some((v) => v.status === 'draft'),
    });
  });

  router.post('/ethograms/:slug/drafts', async (req, res) => {
    const { ethogram } = await loadVisibleEthogram(deps.db, req.auth.actor, req.params.slug);
    authorize(req.auth.actor, 'ethogram.edit', { status: 'draft' });
    try {
      const draft = await createDraft(ctxOf(req, deps), ethogram.id);
      flash(res, `Opened draft version ${draft.number}, copied from the latest version.`);
      res.redirect(303, base(ethogram.slug, draft.number));
    } catch (err) {
      if (!reportable(err)) throw err;
      flash(res, err.message);
      res.redirect(303, base(ethogram.slug));
    }
  });

  /** The version page, normally or again after a failed form (`failedForm` says which; `values` its input). */
  async function renderVersion(req: Request, res: Response, ethogram: EthogramRow, version: VersionRow, extra: Record<string, unknown> = {}, err?: unknown) {
    const rows = await listVersionBehaviours(deps.db, version.id);
    const problems = version.status === 'draft' ? documentProblems(versionDocument(ethogram, version, rows)) : undefined;
    const presented = presentVersion(ethogram, version, rows, problems);
    const canEdit = version.status === 'draft' && can(req.auth.actor, 'ethogram.edit', version);
    // Published and deprecated versions are citable: this page is their permanent address.
    const citation = versionCitation(deps.config.baseUrl, ethogram, version);
    const data = {
      title: `${ethogram.name}, version ${version.number}`,
      version: presented,
      base: base(ethogram.slug, version.number),
      exportUrl: `/api/v1${base(ethogram.slug, version.number)}/export`,
      borisExportUrl: `/api/v1${base(ethogram.slug, version.number)}/export?format=boris`,
      citation,
      canonicalUrl: citation?.url,
      metaTags: citation?.metaTags ?? [],
      canEdit,
      canPublish: canEdit && can(req.auth.actor, 'ethogram.publish', version),
      canDeprecate: version.status === 'published' && can(req.auth.actor, 'ethogram.deprecate', version),
      draftValues: draftFormValues(version),
      behaviourValues: behaviourFormValues(undefined, { category: version.categories[0]?.key }),
      behaviourFormAction: `${base(ethogram.slug, version.number)}/behaviours`,
      behaviourFormSubmit: 'Add behaviour',
      form: behaviourFormOptions(version),
      ...extra,
    };
    if (err) return rerenderForm(res, 'pages/ethogram-version', err, data);
    res.render('pages/ethogram-version', data);
  }

  router.get('/ethograms/:slug/versions/:number', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    await renderVersion(req, res, ethogram, version);
  });

  router.post('/ethograms/:slug/versions/:number', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const body: FormBody = req.body ?? {};
    try {
      const input = parseOrThrow(updateDraftInput, draftInputFromForm(body), 'The draft');
      await updateDraft(ctxOf(req, deps), version.id, input);
      flash(res, 'Draft saved.');
      res.redirect(303, base(ethogram.slug, version.number));
    } catch (err) {
      draftOnly(version, err);
      keepCsrf(req, res);
      const draftValues = Object.fromEntries([...draftFormFields, 'revision'].map((name) => [name, String(body[name] ?? '')]));
      await renderVersion(req, res, ethogram, version, { failedForm: 'draft', draftValues }, foldedFor(err, draftFormFields));
    }
  });

  router.post('/ethograms/:slug/versions/:number/behaviours', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const body: FormBody = req.body ?? {};
    try {
      const input = parseOrThrow(behaviourInput, behaviourInputFromForm(body), 'The behaviour');
      if (!input.code) throw new AppError('validation_failed', 'The behaviour needs a code.', { fields: { code: 'Enter a code, e.g. "REF-OVER".' } });
      const { behaviour } = await upsertBehaviour(ctxOf(req, deps), version.id, input.code, input, { mode: 'create' });
      flash(res, `Added ${behaviour.code}.`);
      res.redirect(303, `${base(ethogram.slug, version.number)}#behaviour-${behaviour.code}`);
    } catch (err) {
      draftOnly(version, err);
      keepCsrf(req, res);
      await renderVersion(req, res, ethogram, version, { failedForm: 'behaviour', behaviourValues: behaviourFormEcho(body) }, foldedFor(err, behaviourFormFields));
    }
  });

  for (const [action, run, done] of [
    ['publish', publishVersion, 'Published: this version is now public and can no longer change.'],
    ['discard', discardDraft, 'Draft discarded.'],
  ] as const) {
    router.post(`/ethograms/:slug/versions/:number/${action}`, async (req, res) => {
      const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
      authorize(req.auth.actor, action === 'publish' ? 'ethogram.publish' : 'ethogram.edit', version);
      try {
        const result = await run(ctxOf(req, deps), version.id);
        const queued = result && 'queuedForRecode' in result ? result.queuedForRecode : 0;
        flash(res, queued > 0 ? `${done} ${queued} coding${queued === 1 ? ' waits' : 's wait'} in the recode queue.` : done);
        res.redirect(303, action === 'publish' ? base(ethogram.slug, version.number) : base(ethogram.slug));
      } catch (err) {
        if (!reportable(err)) throw err;
        draftOnly(version, err);
        keepCsrf(req, res);
        await renderVersion(req, res, ethogram, version, { failedForm: action }, err);
      }
    });
  }

  router.post('/ethograms/:slug/versions/:number/deprecate', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.deprecate', version);
    try {
      await deprecateVersion(ctxOf(req, deps), version.id);
      flash(res, `Version ${version.number} is deprecated. Codings made with it keep their definitions.`);
    } catch (err) {
      if (!reportable(err)) throw err;
      flash(res, err.message);
    }
    res.redirect(303, base(ethogram.slug));
  });

  /** One behaviour's page, normally or again after a failed edit. */
  async function renderBehaviour(req: Request, res: Response, ethogram: EthogramRow, version: VersionRow, code: string, extra: Record<string, unknown> = {}, err?: unknown) {
    const row = await findBehaviourByCode(deps.db, version.id, code);
    if (!row) throw new AppError('not_found', `The behaviour ${code} was not found in version ${version.number} of ${ethogram.slug}.`);
    const behaviour = presentBehaviour(row);
    const canEdit = version.status === 'draft' && can(req.auth.actor, 'ethogram.edit', version);
    const categoryName = version.categories.find((c) => c.key === behaviour.category)?.name ?? behaviour.category;
    const data = {
      title: `${behaviour.code} · ${behaviour.name}`,
      ethogram: { slug: ethogram.slug, name: ethogram.name },
      version: { number: version.number, status: version.status, revision: version.revision },
      versionUrl: base(ethogram.slug, version.number),
      behaviour,
      categoryName,
      modifierSetsUsed: version.modifierSets.filter((m) => behaviour.modifierSets.includes(m.key)),
      canEdit,
      behaviourValues: behaviourFormValues(behaviour),
      behaviourFormAction: `${base(ethogram.slug, version.number)}/behaviours/${behaviour.code}`,
      behaviourFormSubmit: `Save ${behaviour.code}`,
      form: behaviourFormOptions(version),
      experiments: await experimentsPanel(deps.db, req.auth.actor, { behaviour: behaviour.code }),
      ...extra,
    };
    if (err) return rerenderForm(res, 'pages/ethogram-behaviour', err, data);
    res.render('pages/ethogram-behaviour', data);
  }

  router.get('/ethograms/:slug/versions/:number/behaviours/:code', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    await renderBehaviour(req, res, ethogram, version, req.params.code);
  });

  router.post('/ethograms/:slug/versions/:number/behaviours/:code', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const body: FormBody = req.body ?? {};
    try {
      const input = parseOrThrow(behaviourInput, behaviourInputFromForm(body), 'The behaviour');
      const { behaviour } = await upsertBehaviour(ctxOf(req, deps), version.id, req.params.code, input, { mode: 'update' });
      flash(res, `Saved ${behaviour.code}.`);
      res.redirect(303, `${base(ethogram.slug, version.number)}/behaviours/${behaviour.code}`);
    } catch (err) {
      draftOnly(version, err);
      keepCsrf(req, res);
      await renderBehaviour(req, res, ethogram, version, req.params.code, { failedForm: 'behaviour', behaviourValues: behaviourFormEcho(body) }, foldedFor(err, behaviourFormFields));
    }
  });

  router.post('/ethograms/:slug/versions/:number/behaviours/:code/delete', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    try {
      await deleteBehaviour(ctxOf(req, deps), version.id, req.params.code);
      flash(res, `Deleted ${req.params.code} from the draft.`);
    } catch (err) {
      if (!reportable(err)) throw err;
      flash(res, err.message);
    }
    res.redirect(303, base(ethogram.slug, version.number));
  });

  return router;
}

/** The choices the behaviour form offers, from the version's own lists. */
function behaviourFormOptions(version: VersionRow) {
  return {
    categories: version.categories.map((c) => ({ key: c.key, name: c.name })),
    modifierSets: version.modifierSets.map((m) => ({ key: m.key, name: m.name })),
    kinds: behaviourKinds,
    statuses: behaviourStatuses,
    mappingSchemes: mappingSchemes.join(', '),
    revision: version.revision,
  };
}

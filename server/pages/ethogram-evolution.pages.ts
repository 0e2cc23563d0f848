import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { listVersionBehaviours } from '../../ethograms/behaviour.queries.ts';
import { loadVisibleEthogram, loadVisibleVersion } from '../../ethograms/ethogram.access.ts';
import type { Migration } from '../../ethograms/ethogram-document.schema.ts';
import { presentChanges } from '../../ethograms/evolution/changes.presenter.ts';
import { recodeQueue } from '../../ethograms/evolution/recode.queries.ts';
import { resolveRecode, resolveRecodeInput } from '../../ethograms/evolution/resolve-recode.command.ts';
import { setMigrations } from '../../ethograms/evolution/set-migrations.command.ts';
import { draftChanges } from '../../ethograms/evolution/version-changes.ts';
import type { EthogramRow, VersionRow } from '../../ethograms/version-document.ts';
import type { AppDeps } from '../app-deps.ts';
import { ctxOf } from '../http/request-context.ts';
import { flash, rerenderForm } from './form.ts';
import { preparePageLocals } from './observations/page-locals.ts';

type FormBody = Record<string, unknown>;
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined || v === '' ? [] : [String(v)]);

/** One migration as the changes page's small forms send it (`type` and the codes), checked like the API's. */
const migrationForm = z.discriminatedUnion('type', [
  z.object({ type: z.literal('merge'), code: z.string().min(1), into: z.string().min(1, 'Choose the behaviour to merge into.') }),
  z.object({ type: z.literal('split'), code: z.string().min(1), into: z.array(z.string()).min(2, 'Tick at least two behaviours to split into.') }),
  z.object({ type: z.literal('redefine'), code: z.string().min(1), decision: z.enum(['recode', 'reword']) }),
  z.object({ type: z.literal('retire'), code: z.string().min(1) }),
]);

/** Adds one migration to a list: a merge into a target that already has one joins it. */
function withMigration(existing: readonly Migration[], form: z.infer<typeof migrationForm>): Migration[] {
  switch (form.type) {
    case 'merge': {
      const same = existing.findIndex((m) => m.type === 'merge' && m.into === form.into);
      if (same >= 0) {
        const m = existing[same] as Extract<Migration, { type: 'merge' }>;
        return existing.map((x, i) => (i === same ? { ...m, from: [...new Set([...m.from, form.code])] } : x));
      }
      return [...existing, { type: 'merge', from: [form.code], into: form.into }];
    }
    case 'split':
      return [...existing, { type: 'split', from: form.code, into: form.into }];
    case 'redefine':
      return [...existing, { type: 'redefine', code: form.code, decision: form.decision }];
    case 'retire':
      return [...existing, { type: 'retire', code: form.code }];
  }
}

/**
 * How an ethogram evolves, as pages: a version's changes in words and side by side (on a draft, with forms that
 * declare a migration for each change that affects codings), and the recode queue. The same commands as the API.
 */
export function ethogramEvolutionPages(deps: AppDeps): Router {
  const router = express.Router();
  const versionBase = (slug: string, number: number) => `/ethograms/${slug}/versions/${number}`;

  async function renderChanges(req: Request, res: Response, ethogram: EthogramRow, version: VersionRow, err?: unknown) {
    const rows = await listVersionBehaviours(deps.db, version.id);
    const migrations = version.migrations as Migration[];
    const changes = await draftChanges(deps.db, version.ethogramId, rows, migrations, version.status === 'draft' ? undefined : version.number);
    const presented = presentChanges(version, rows, changes);
    const canEdit = version.status === 'draft' && can(req.auth.actor, 'ethogram.edit', version);
    const data = {
      title: `${ethogram.name} v${version.number}: changes`,
      ethogram: { slug: ethogram.slug, name: ethogram.name },
      base: versionBase(ethogram.slug, version.number),
      changes: { ...presented, changes: presented.changes.map((c) => ({ ...c, sides: c.pairs.map(sideBySide) })) },
      canEdit,
      draftCodes: rows.map((b) => b.code).sort(),
      blocking: presented.blocking.map((b) => ({ ...b, removed: b.change === 'removed', redefined: b.change === 'redefined' })),
      migrations: migrations.map((m, index) => ({ index, words: describeMigration(m) })),
    };
    if (err) return rerenderForm(res, 'pages/ethogram-changes', err, data);
    res.render('pages/ethogram-changes', data);
  }

  router.get('/ethograms/:slug/versions/:number/changes', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    await renderChanges(req, res, ethogram, version);
  });

  router.post('/ethograms/:slug/versions/:number/migrations', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const body: FormBody = req.body ?? {};
    try {
      const form = parseOrThrow(migrationForm, { type: body.type, code: body.code, into: body.type === 'split' ? list(body.into) : body.into, decision: body.decision }, 'The migration');
      await setMigrations(ctxOf(req, deps), version.id, { migrations: withMigration(version.migrations as Migration[], form) });
      flash(res, `Migration for ${form.code} declared.`);
      res.redirect(303, `${versionBase(ethogram.slug, version.number)}/changes`);
    } catch (err) {
      preparePageLocals(req, res, deps);
      await renderChanges(req, res, ethogram, version, err);
    }
  });

  router.post('/ethograms/:slug/versions/:number/migrations/:index/delete', async (req, res) => {
    const { ethogram, version } = await loadVisibleVersion(deps.db, req.auth.actor, req.params.slug, req.params.number);
    authorize(req.auth.actor, 'ethogram.edit', version);
    const index = Number(req.params.index);
    const migrations = (version.migrations as Migration[]).filter((_m, i) => i !== index);
    try {
      await setMigrations(ctxOf(req, deps), version.id, { migrations });
      flash(res, 'Migration removed.');
      res.redirect(303, `${versionBase(ethogram.slug, version.number)}/changes`);
    } catch (err) {
      preparePageLocals(req, res, deps);
      await renderChanges(req, res, ethogram, version, err);
    }
  });

  async function renderQueue(req: Request, res: Response, ethogram: EthogramRow, err?: unknown) {
    const status = req.query.status === 'resolved' ? 'resolved' : 'open';
    const after = typeof req.query.after === 'string' && /^[0-9T:.\-Z]+_[0-9a-f-]{36}$/.test(req.query.after) ? req.query.after : undefined;
    const page = await recodeQueue(deps.db, ethogram.id, { status, after, limit: 20 });
    const data = {
      title: `${ethogram.name}: recode queue`,
      ethogram: { slug: ethogram.slug, name: ethogram.name },
      status,
      page,
      items: page.items.map((item) => ({ ...item, candidates: item.candidates.map((c, i) => ({ ...c, key: i + 1 })) })),
      nextUrl: page.next ? `/ethograms/${ethogram.slug}/recode?status=${status}&after=${encodeURIComponent(page.next)}` : null,
    };
    if (err) return rerenderForm(res, 'pages/ethogram-recode', err, data);
    res.render('pages/ethogram-recode', data);
  }

  router.get('/ethograms/:slug/recode', async (req, res) => {
    const { ethogram } = await loadVisibleEthogram(deps.db, req.auth.actor, req.params.slug);
    authorize(req.auth.actor, 'ethogram.recode');
    await renderQueue(req, res, ethogram);
  });

  router.post('/ethograms/:slug/recode/:id', async (req, res) => {
    const { ethogram } = await loadVisibleEthogram(deps.db, req.auth.actor, req.params.slug);
    authorize(req.auth.actor, 'ethogram.recode');
    const body: FormBody = req.body ?? {};
    try {
      const id = parseOrThrow(z.uuid('That is not a recode item.'), req.params.id, 'The recode item');
      const input = parseOrThrow(resolveRecodeInput, { choice: body.choice, note: body.note ?? '' }, 'The decision');
      const decided = await resolveRecode(ctxOf(req, deps), id, input);
      flash(res, decided.chosenCode ? `Recoded as ${decided.chosenCode}.` : 'Recorded: none of the candidates applies.');
      res.redirect(303, `/ethograms/${ethogram.slug}/recode`);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      preparePageLocals(req, res, deps);
      await renderQueue(req, res, ethogram, err);
    }
  });

  return router;
}

/** A declared migration in words. */
export function describeMigration(m: Migration): string {
  switch (m.type) {
    case 'merge':
      return `Merge ${m.from.join(', ')} into ${m.into}: codings map to ${m.into}.`;
    case 'split':
      return `Split ${m.from} into ${m.into.join(', ')}: codings go to the recode queue.`;
    case 'redefine':
      return m.decision === 'recode'
        ? `${m.code} is redefined: its codings go to the recode queue.`
        : `${m.code} is reworded only: its codings keep their meaning and carry over.`;
    case 'retire':
      return `Retire ${m.code}: its codings keep their version and have no equivalent in this one.`;
  }
}

const SIDE_FIELDS = ['code', 'name', 'category', 'parent', 'kind', 'level', 'definition', 'inclusion', 'exclusion'] as const;
type Side = Record<(typeof SIDE_FIELDS)[number], unknown> | null;

/** One before/after pair as table rows, each marked when it differs (in words as well as style). */
function sideBySide(pair: { before: Side; after: Side }) {
  const show = (v: unknown) => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join('\n') : String(v));
  return {
    title: `${pair.before?.code ?? '(new)'} → ${pair.after?.code ?? '(removed)'}`,
    rows: SIDE_FIELDS.map((field) => {
      const before = pair.before ? show(pair.before[field]) : '';
      const after = pair.after ? show(pair.after[field]) : '';
      return { field, before, after, changed: before !== after };
    }),
  };
}

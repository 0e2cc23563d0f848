import { parseArgs } from 'node:util';
import type { UserActor } from '../../accounts/actor.ts';
import { findUserByEmail, listUsers } from '../../accounts/user.queries.ts';
import type { Db } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import { checkModel } from '../../experiments/models/check-model.command.ts';
import { formatParameters } from '../../experiments/models/model.presenter.ts';
import { listModels, requireModel, type ModelRow } from '../../experiments/models/model.queries.ts';
import { registerModel } from '../../experiments/models/register-model.command.ts';
import type { CliCommand } from './cli-command.ts';
import { withDatabase } from './with-database.ts';

const HELP = `Usage:
  menagerie models list
      The registered model folders: name, status, architecture, parameters, weights sha256, path.
  menagerie models add PATH --name NAME [--by EMAIL]
      Registers a model folder (Hugging Face layout: config.json, model.safetensors or shards, tokenizer.json or
      vocab.json + merges.txt). The folder is checked (weights matching the config, a tokenizer that fits the
      vocabulary) and its weights hashed; a folder that fails is refused with the reason. Experiments run on
      registered models only, and each result records the weights' sha256.
  menagerie models check [NAME] [--by EMAIL]
      Checks every registered folder (or one) again: ready, missing, changed (sha256) or invalid.

--by names the admin account the change is recorded under (default: the first admin).
Uses the configured database (DATABASE_URL, else PGlite in MENAGERIE_DATA_DIR).`;

/** The admin the shell acts as: the named account (which must be an admin), else the first admin. */
async function shellAdmin(db: Db, email: string | undefined): Promise<UserActor> {
  const user = email ? await findUserByEmail(db, email) : (await listUsers(db)).find((u) => u.role === 'admin');
  if (!user) throw new AppError('not_found', email ? `No account has the email ${email}.` : 'There is no admin account yet: create one with "menagerie admin create EMAIL".');
  if (user.role !== 'admin') throw new AppError('forbidden', `${user.email} is a ${user.role}; registering and checking models is an admin's task.`);
  return { kind: 'user', id: user.id, role: user.role, email: user.email, displayName: user.displayName, via: 'system' };
}

const line = (m: ModelRow) =>
  `${m.name}\t${m.status}${m.statusReason ? ` (${m.statusReason})` : ''}\t${m.architecture}\t${formatParameters(m.parameters)}\t${m.weightsSha256.slice(0, 16)}…\t${m.path}`;

export const modelsCommand: CliCommand = {
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { name: { type: 'string' }, by: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    const [sub, arg] = positionals;
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    if (sub !== 'list' && sub !== 'add' && sub !== 'check') {
      io.err(HELP);
      return 1;
    }
    if (sub === 'add' && (!arg || !values.name)) {
      io.err('Give the folder and a name: menagerie models add PATH --name NAME');
      return 1;
    }
    return withDatabase(io.env, async (db) => {
      if (sub === 'list') {
        const models = await listModels(db);
        io.out(models.length ? models.map(line).join('\n') : 'No models are registered. Add one with "menagerie models add PATH --name NAME".');
        return 0;
      }
      const ctx = { db, actor: await shellAdmin(db, values.by), now: () => new Date() };
      if (sub === 'add') {
        let id: string;
        try {
          ({ id } = await registerModel(ctx, { path: arg, name: values.name }));
        } catch (error) {
          // The folder's problem is in the field message; say it once, plainly.
          if (error instanceof AppError && error.details?.fields) {
            io.err(`Refused: ${Object.values(error.details.fields).join('; ')}`);
            return 1;
          }
          throw error;
        }
        io.out(`Registered ${line(await requireModel(db, id))}`);
        return 0;
      }
      const targets = (await listModels(db)).filter((m) => !arg || m.name.toLowerCase() === arg.toLowerCase());
      if (arg && targets.length === 0) {
        io.err(`No model is called "${arg}". "menagerie models list" shows them.`);
        return 1;
      }
      let bad = 0;
      for (const m of targets) {
        const check = await checkModel(ctx, m.id);
        if (check.status !== 'ready') bad++;
        io.out(`${m.name}: ${check.status}${check.reason ? ` (${check.reason})` : ''}`);
      }
      return bad ? 1 : 0;
    });
  },
};

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { anonymous } from '../../accounts/actor.ts';
import { createApiToken } from '../../accounts/api-tokens.ts';
import { createUser } from '../../accounts/create-user.command.ts';
import { roleSchema, emailSchema } from '../../accounts/account.validation.ts';
import { findUserByEmail } from '../../accounts/user.queries.ts';
import { generatePassword } from '../../accounts/password.ts';
import { parseOrThrow } from '../../core/validation.ts';
import type { CliCommand } from './cli-command.ts';
import { withDatabase } from './with-database.ts';

const HELP = `Usage:
  menagerie admin create EMAIL [--role contributor|researcher|admin] [--name NAME]
      Makes an account and prints a one-time password. The first account on an instance is always admin.
  menagerie admin token EMAIL [--name NAME]
      Prints a new personal API token for the account (send it as "Authorization: Bearer TOKEN").

Both use the configured database (DATABASE_URL, else PGlite in MENAGERIE_DATA_DIR).`;

export const adminCommand: CliCommand = {
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { role: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    const [sub, rawEmail] = positionals;
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    if ((sub !== 'create' && sub !== 'token') || !rawEmail) {
      io.err(HELP);
      return 1;
    }
    const email = parseOrThrow(emailSchema, rawEmail, 'The email');
    // Checked before the database opens: a mistyped role is reported at once.
    const role = values.role === undefined ? undefined : parseOrThrow(roleSchema, values.role, 'The role');
    return withDatabase(io.env, async (db) => {
      const ctx = { db, actor: anonymous, now: () => new Date() };
      if (sub === 'create') {
        const password = generatePassword();
        const displayName = parseOrThrow(z.string().trim().min(1).max(100), values.name ?? email.split('@')[0], 'The name');
        const user = await createUser(ctx, { email, password, displayName, ...(role ? { role } : {}) });
        io.out(`Created ${user.email} (${user.role}).\nOne-time password: ${password}\nSign in and keep it somewhere safe; it is not shown again.`);
        return 0;
      }
      const user = await findUserByEmail(db, email);
      if (!user) {
        io.err(`No account has the email ${email}. Create it with "menagerie admin create ${email}".`);
        return 1;
      }
      const { token } = await createApiToken(db, user.id, values.name ?? 'shell');
      io.out(token);
      return 0;
    });
  },
};

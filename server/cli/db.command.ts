import { rebuildCodeSets } from '../../analyses/rebuild-code-sets.ts';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import type { CliCommand } from './cli-command.ts';

export const dbCommand: CliCommand = {
  async run(argv, io) {
    const [sub] = argv;
    if ((sub !== 'migrate' && sub !== 'rebuild-code-sets') || argv.includes('--help')) {
      io.out(
        'Usage: menagerie db migrate\n       menagerie db rebuild-code-sets\n\n' +
          'migrate            applies the SQL migrations in server/db/migrations to the configured database\n' +
          '                   (DATABASE_URL, else PGlite in MENAGERIE_DATA_DIR). Safe to run repeatedly.\n' +
          'rebuild-code-sets  recomputes the code sets the analyses read (observation_code_sets) from the codings,\n' +
          '                   in one transaction, and prints how many rows it corrected. Triggers keep them right;\n' +
          '                   run it after a TRUNCATE, a partial restore or a load with triggers disabled.',
      );
      return argv.includes('--help') ? 0 : 1;
    }
    const config = loadConfig(io.env);
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, pgliteInProcess: true });
    try {
      await database.migrate();
      if (sub === 'migrate') io.out(`Migrations applied (${database.kind}).`);
      else {
        const result = await rebuildCodeSets(database.db);
        io.out(`Code sets rebuilt: ${result.rows} rows, ${result.corrected} corrected (${database.kind}).`);
      }
    } finally {
      await database.close();
    }
    return 0;
  },
};

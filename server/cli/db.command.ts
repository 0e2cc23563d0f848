import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import type { CliCommand } from './cli-command.ts';

export const dbCommand: CliCommand = {
  name: 'db',
  summary: 'Database tasks: "db migrate" applies the committed migrations.',
  async run(argv, io) {
    const [sub] = argv;
    if (sub !== 'migrate' || argv.includes('--help')) {
      io.out('Usage: menagerie db migrate\n\nApplies the SQL migrations in server/db/migrations to the configured database\n(DATABASE_URL, else PGlite in MENAGERIE_DATA_DIR). Safe to run repeatedly.');
      return sub === 'migrate' || argv.includes('--help') ? 0 : 1;
    }
    const config = loadConfig(io.env);
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
    try {
      await database.migrate();
      io.out(`Migrations applied (${database.kind}).`);
    } finally {
      await database.close();
    }
    return 0;
  },
};

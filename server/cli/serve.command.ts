import { main } from '../main.ts';
import type { CliCommand } from './cli-command.ts';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Start the web server (PORT, MENAGERIE_DATA_DIR, DATABASE_URL; see "menagerie config").',
  async run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out('Usage: menagerie serve\n\nStarts the HTTP server. Configuration comes from the environment: run "menagerie config" for every key.');
      return 0;
    }
    await main(io.env);
    // Keep running: the server holds the event loop open until SIGINT/SIGTERM.
    return new Promise<number>(() => {});
  },
};

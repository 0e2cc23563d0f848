import type { CliCommand } from './cli-command.ts';

export const serveCommand: CliCommand = {
  async run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out('Usage: menagerie serve\n\nStarts the HTTP server. Configuration comes from the environment: run "menagerie config" for every key.');
      return 0;
    }
    // The web app loads only now (about 2 s): "serve --help" does not need it.
    const { main } = await import('../main.ts');
    await main(io.env);
    // Keep running: the server holds the event loop open until SIGINT/SIGTERM.
    return new Promise<number>(() => {});
  },
};

import { configKeys } from '../config.ts';
import type { CliCommand } from './cli-command.ts';

export const configCommand: CliCommand = {
  async run(argv, io) {
    if (argv.includes('--help')) {
      io.out('Usage: menagerie config\n\nPrints the configuration reference (environment variables read at boot).');
      return 0;
    }
    for (const { env, doc, example } of Object.values(configKeys)) io.out(`${env.padEnd(26)} ${doc} (e.g. ${example})`);
    return 0;
  },
};

import { adminCommand } from './admin.command.ts';
import { configCommand } from './config.command.ts';
import { dbCommand } from './db.command.ts';
import { experimentCommand } from './experiment.command.ts';
import { exportCommand } from './export.command.ts';
import { importCommand } from './import.command.ts';
import { modelsCommand } from './models.command.ts';
import { serveCommand } from './serve.command.ts';
import { workerCommand } from './worker.command.ts';
import type { CliCommand } from './cli-command.ts';

const commands: CliCommand[] = [serveCommand, dbCommand, adminCommand, importCommand, exportCommand, configCommand, experimentCommand, modelsCommand, workerCommand];

function usage(): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return `Usage: menagerie <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "menagerie <command> --help" for a command's options.`;
}

/** Entry point of the `menagerie` command line; returns the exit code. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(usage());
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    err(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, { env, out, err });
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

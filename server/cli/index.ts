import type { CliEntry } from './cli-command.ts';

/**
 * The subcommands. Each one's module is imported only when it runs: the whole app takes about 2 s to load, and
 * "menagerie --help" or "admin token" need none of the web server.
 */
const commands: CliEntry[] = [
  { name: 'serve', summary: 'Start the web server (PORT, MENAGERIE_DATA_DIR, DATABASE_URL; see "menagerie config").', load: async () => (await import('./serve.command.ts')).serveCommand },
  { name: 'db', summary: 'Database tasks: "db migrate" applies the committed migrations; "db rebuild-code-sets" recomputes what the analyses read.', load: async () => (await import('./db.command.ts')).dbCommand },
  { name: 'admin', summary: 'Accounts from the shell: "admin create EMAIL", "admin token EMAIL".', load: async () => (await import('./admin.command.ts')).adminCommand },
  { name: 'import', summary: 'Import model conversations from a file: "import FILE [--format F] [--as EMAIL]".', load: async () => (await import('./import.command.ts')).importCommand },
  { name: 'export', summary: 'Export observations as JSONL, CSV or a ZIP dataset: "export --format F [--out FILE] [filters]".', load: async () => (await import('./export.command.ts')).exportCommand },
  { name: 'config', summary: 'Print every configuration key with its environment variable and meaning.', load: async () => (await import('./config.command.ts')).configCommand },
  { name: 'experiment', summary: 'Run an interpretability technique on a local model: "experiment TECHNIQUE --model DIR ...".', load: async () => (await import('./experiment.command.ts')).experimentCommand },
  { name: 'models', summary: 'Model folders for experiments: "models list", "models add PATH --name NAME", "models check".', load: async () => (await import('./models.command.ts')).modelsCommand },
  { name: 'worker', summary: 'Run background jobs (classification...) from the database queue: "worker [--concurrency N] [--once]".', load: async () => (await import('./worker.command.ts')).workerCommand },
];

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
    return await (await command.load()).run(rest, { env, out, err });
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** One `menagerie` subcommand's runner: it parses its own arguments and returns the exit code. */
export interface CliCommand {
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A subcommand in the overview: its name, a one-line summary, and its runner's module, loaded when it runs. */
export interface CliEntry {
  name: string;
  summary: string;
  load(): Promise<CliCommand>;
}

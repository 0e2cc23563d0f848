import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { anonymous, type Actor } from '../../accounts/actor.ts';
import { fieldErrors } from '../../core/validation.ts';
import { exportFormats, exportObservations, writableSink, type ExportFormat } from '../../observations/export/export-observations.ts';
import { listFiltersSchema } from '../../observations/observation.input.ts';
import type { CliCommand } from './cli-command.ts';
import { importingActor } from './import.command.ts';
import { withDatabase } from './with-database.ts';

const FILTERS = ['q', 'provider', 'model', 'behaviour', 'category', 'tag', 'status', 'from', 'to'] as const;

const HELP = `Usage:
  menagerie export --format jsonl|csv|zip [--out FILE] [--as EMAIL | --public] [filters...]
      Streams every observation matching the filters (the list's filters; the whole set, not a page):
        jsonl  one observation per line, with transcript, tags, provenance and codings; "menagerie import" reads it back
        csv    one row per observation
        zip    observations.jsonl, observations.csv, codings.csv, the ethogram versions referenced and a README
      Fields and layout: observations/export/README.md.

Options:
  --format F        jsonl, csv or zip (required).
  --out FILE        Write to FILE (default: standard output; a ZIP is not written to a terminal).
  --as EMAIL        Export what this account may read (default: the first admin: every observation not deleted).
  --public          Export what anonymous visitors may read (public observations only).

Filters (as on /observations and GET /api/v1/observations):
  --q TEXT  --provider P  --model M  --behaviour CODE  --category KEY  --tag TAG
  --status submitted|triaged|coded|verified|rejected|duplicate  --from YYYY-MM-DD  --to YYYY-MM-DD

Uses the configured database (DATABASE_URL, else PGlite in MENAGERIE_DATA_DIR). Prints the counts on stderr.`;

export const exportCommand: CliCommand = {
  async run(argv, io) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          format: { type: 'string' },
          out: { type: 'string' },
          as: { type: 'string' },
          public: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
          ...Object.fromEntries(FILTERS.map((f) => [f, { type: 'string' as const }])),
        },
      }));
    } catch (error) {
      io.err(`${(error as Error).message}\n\n${HELP}`);
      return 1;
    }
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    const format = values.format as string | undefined;
    if (!format || !(exportFormats as readonly string[]).includes(format)) {
      io.err(format ? `Unknown format "${format}". The formats are: ${exportFormats.join(', ')}.` : `Choose a format with --format (${exportFormats.join(', ')}).`);
      return 1;
    }
    if (values.as && values.public) {
      io.err('Use --as EMAIL or --public, not both.');
      return 1;
    }
    const parsed = listFiltersSchema.safeParse(Object.fromEntries(FILTERS.map((f) => [f, values[f]])));
    if (!parsed.success) {
      io.err(Object.entries(fieldErrors(parsed.error)).map(([field, message]) => `--${field}: ${message}`).join('\n'));
      return 1;
    }
    const out = values.out as string | undefined;
    if (!out && format === 'zip' && process.stdout.isTTY) {
      io.err('A ZIP is binary: write it to a file with --out FILE, or redirect standard output.');
      return 1;
    }

    return withDatabase(io.env, async (db) => {
      let actor: Actor = anonymous;
      if (!values.public) {
        const found = await importingActor(db, values.as as string | undefined);
        if (typeof found === 'string') {
          io.err(found.replace('import as', 'export as'));
          return 1;
        }
        actor = found;
      }
      const stream = out ? createWriteStream(out) : process.stdout;
      try {
        const summary = await exportObservations({ db, actor, now: () => new Date() }, parsed.data, format as ExportFormat, writableSink(stream));
        if (out) {
          stream.end();
          await once(stream, 'finish');
        }
        const who = actor.kind === 'user' ? `as ${actor.email}` : 'as an anonymous visitor (public observations only)';
        io.err(`Exported ${summary.observations} observation${summary.observations === 1 ? '' : 's'} (${summary.codings} codings) ${who}${out ? ` to ${out}` : ''}.`);
        return 0;
      } catch (error) {
        if (out) {
          stream.destroy();
          await rm(out, { force: true });
        }
        throw error;
      }
    }, { pgliteWorker: true });
  },
};

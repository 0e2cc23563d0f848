import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { users } from '../../accounts/account.schema.ts';
import type { UserActor } from '../../accounts/actor.ts';
import type { Db } from '../../core/db.ts';
import { importObservations, type ImportProgress, type ImportSummary } from '../../observations/import-observations.command.ts';
import { DEFAULT_MAX_IMPORT_BYTES, importFormats, type ImportFormat, type ImportSource } from '../../observations/importers/index.ts';
import type { CliCommand, CliIo } from './cli-command.ts';
import { withDatabase } from './with-database.ts';

const HELP = `Usage:
  menagerie import FILE [--format FORMAT] [--as EMAIL] [--max-bytes N]
      Files every conversation in FILE as an observation (capture "import", visible to members).
      Each record is its own transaction; a record already imported (same raw sha256) is skipped as a
      duplicate; records that cannot be read are listed with their index and reason, and the rest import.

Options:
  --format FORMAT   Skip detection: ${importFormats.join(', ')}.
  --as EMAIL        Submit as this account (default: the first admin).
  --max-bytes N     Refuse files larger than N bytes (default: MENAGERIE_IMPORT_MAX_BYTES, else ${DEFAULT_MAX_IMPORT_BYTES}, 1 GiB).

Uses the configured database (DATABASE_URL, else PGlite in MENAGERIE_DATA_DIR). Exits 0 when the file was
read (even if some records failed), 1 when it could not be (unknown format, too large, corrupt).`;

/** Connections for an import on PostgreSQL: the import keeps up to eight record statements going at once. */
const IMPORT_POOL_SIZE = 8;

export const importCommand: CliCommand = {
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        as: { type: 'string' },
        'max-bytes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0) {
      io.err(HELP);
      return 1;
    }
    const format = values.format;
    if (format !== undefined && !(importFormats as readonly string[]).includes(format)) {
      io.err(`Unknown format "${format}". The formats are: ${importFormats.join(', ')}.`);
      return 1;
    }
    const maxBytesArg = values['max-bytes'] === undefined ? undefined : Number(values['max-bytes']);
    if (maxBytesArg !== undefined && (!Number.isSafeInteger(maxBytesArg) || maxBytesArg <= 0)) {
      io.err(`--max-bytes takes a positive whole number of bytes, not "${values['max-bytes']}".`);
      return 1;
    }
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch {
      io.err(`Cannot read ${file}: there is no such file.`);
      return 1;
    }

    return withDatabase(io.env, async (db, config) => {
      const maxBytes = maxBytesArg ?? config.importMaxBytes;
      const actor = await importingActor(db, values.as);
      if (typeof actor === 'string') {
        io.err(actor);
        return 1;
      }
      const progress = progressReporter(io, size);
      const { source, bytesRead } = await sourceOf(file, size, maxBytes);
      let summary: ImportSummary;
      try {
        summary = await importObservations({ db, actor, now: () => new Date() }, source, {
          ...(format ? { format: format as ImportFormat } : {}),
          maxBytes,
          onProgress: (p) => progress.update(p, bytesRead()),
        });
      } finally {
        progress.done();
      }
      io.out(describeSummary(file, actor.email, summary));
      return 0;
    }, { poolSize: IMPORT_POOL_SIZE, pgliteWorker: true });
  },
};

/** The account the import is submitted as, or a message saying why there is none. */
export async function importingActor(db: Db, email: string | undefined): Promise<UserActor | string> {
  const columns = { id: users.id, email: users.email, displayName: users.displayName, role: users.role };
  const [user] = email
    ? await db.select(columns).from(users).where(and(sql`lower(${users.email}) = ${email.toLowerCase()}`, isNull(users.disabledAt)))
    : await db.select(columns).from(users).where(and(eq(users.role, 'admin'), isNull(users.disabledAt))).orderBy(asc(users.createdAt)).limit(1);
  if (!user) {
    return email
      ? `No active account has the email ${email}. Create it with "menagerie admin create ${email}".`
      : 'There is no admin account to import as. Create one with "menagerie admin create EMAIL", or name an account with --as EMAIL.';
  }
  return { kind: 'user', id: user.id, email: user.email, displayName: user.displayName, role: user.role, via: 'system' };
}

/**
 * The file as the importers read it. Text files are streamed through a byte counter so progress can be shown;
 * ZIP archives (`.eval`) and files over the limit go by path (archives are read by random access, and an
 * oversized file is refused from its size before a byte is read).
 */
async function sourceOf(file: string, size: number, maxBytes: number): Promise<{ source: ImportSource; bytesRead: () => number | undefined }> {
  if (size > maxBytes || (await isZip(file))) return { source: { path: file }, bytesRead: () => undefined };
  let read = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(file)) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }
  return { source: { stream: counted(), fileName: path.basename(file) }, bytesRead: () => read };
}

async function isZip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}

/** A progress bar on a terminal's stderr; otherwise a plain line every few seconds (logs stay readable). */
function progressReporter(io: CliIo, totalBytes: number) {
  const tty = process.stderr.isTTY === true;
  const interval = tty ? 100 : 5000;
  let last = 0;
  let drawn = false;
  const counts = (p: ImportProgress) => `${p.processed} records: ${p.imported} imported, ${p.duplicates} duplicates, ${p.failed} failed`;
  return {
    update(p: ImportProgress, bytes: number | undefined) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const fraction = bytes === undefined || totalBytes === 0 ? undefined : Math.min(1, bytes / totalBytes);
      if (tty) {
        const width = 30;
        const bar = fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${Math.floor(fraction * 100)}% `;
        process.stderr.write(`\r${bar}${counts(p)}\u001b[K`);
        drawn = true;
      } else {
        io.err(`Importing… ${fraction === undefined ? '' : `${Math.floor(fraction * 100)}%, `}${counts(p)}`);
      }
    },
    done() {
      if (drawn) process.stderr.write('\r\u001b[K');
    },
  };
}

/** The result for a person: counts, then each failed record with its index and reason. */
export function describeSummary(file: string, email: string, summary: ImportSummary): string {
  const lines = [
    `Imported ${summary.imported} observation${summary.imported === 1 ? '' : 's'} from ${file} as ${email}.`,
    `Duplicates skipped: ${summary.duplicates}.`,
    `Failed: ${summary.failed.length}.`,
  ];
  for (const f of summary.failed) lines.push(`  record ${f.index}${f.recordId ? ` (${f.recordId})` : ''}: ${f.reason}`);
  return lines.join('\n');
}

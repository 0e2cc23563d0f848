#!/usr/bin/env node
// `npm test`: finds every *.test.ts, prepares one migrated template database for the run, and runs the files
// with Node's test runner (each file in its own process, two at a time on these 2-core machines).
//   MENAGERIE_TEST_DATABASE_URL=postgres://...  run against a PostgreSQL server instead of PGlite
//   npm test -- path/to/file.test.ts dir/ ...   run only those files (and the test files under those folders)
//   MENAGERIE_TEST_CONCURRENCY=N              test files run at once (default 2: one per core; CI's PostgreSQL pass uses 3,
//                                               its files spending much of their time waiting on the server)
//   MENAGERIE_TEST_DATABASE_ONLY=1              skip the files marked `@database-free` (CI's PostgreSQL pass: they
//                                               never open the test database, so they ran already in the PGlite pass)
//   MENAGERIE_TEST_DATABASE_FREE_ONLY=1         run only the files marked `@database-free` (the command line, the
//                                               engine, parsers: a quick check of a Node version)
//   MENAGERIE_TEST_SKIP_BROWSER=1               skip the browser tests (test/browser/): CI's Node 20 PGlite pass; they
//                                               run on the PostgreSQL server (Node 20) and on PGlite under Node 24
//   MENAGERIE_TEST_BUNDLE=0                     run the .ts files through tsx instead of bundling them first
//                                               (scripts/bundle-tests.mjs says why it bundles)
// Files marked `// @long:` (and the browser tests) start first; see below.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTests, stopBundler } from './bundle-tests.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const skipDirs = new Set(['node_modules', '.git', 'data', '.tmp', 'bench']);

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    if (skipDirs.has(name)) return [];
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return findTests(full);
    return name.endsWith('.test.ts') ? [path.relative(root, full)] : [];
  });
}

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const marker = /^\/\/ @database-free:/m;
// A marked file must not reach the test database; a mistaken marker would hide it from the PostgreSQL pass.
const usesDatabase = /startTestApp|createTestDatabase|prepareProcessDatabase|MENAGERIE_TEST_DATABASE_URL/;
const expand = (arg) => (statSync(path.resolve(root, arg)).isDirectory() ? findTests(path.resolve(root, arg)) : [arg]);
const all = [...new Set(requested.length ? requested.flatMap(expand) : findTests(root))].sort();
const sources = new Map(all.map((f) => [f, readFileSync(path.join(root, f), 'utf8')]));
const databaseFree = all.filter((f) => marker.test(sources.get(f)));
for (const f of databaseFree) {
  if (usesDatabase.test(sources.get(f))) {
    console.error(`${f} is marked @database-free but uses the test database: remove the marker.`);
    process.exit(1);
  }
}
const skipDatabaseFree = process.env.MENAGERIE_TEST_DATABASE_ONLY === '1';
const onlyDatabaseFree = process.env.MENAGERIE_TEST_DATABASE_FREE_ONLY === '1';
if (skipDatabaseFree && onlyDatabaseFree) {
  console.error('MENAGERIE_TEST_DATABASE_ONLY and MENAGERIE_TEST_DATABASE_FREE_ONLY exclude each other: set one.');
  process.exit(2);
}
const skipBrowser = process.env.MENAGERIE_TEST_SKIP_BROWSER === '1';
const isBrowserTest = (f) => f.startsWith(`test${path.sep}browser${path.sep}`);
const selected = skipDatabaseFree ? all.filter((f) => !databaseFree.includes(f)) : onlyDatabaseFree ? databaseFree : all;
// The slowest files start first (the browser tests and the files marked `// @long:`), then the rest in name order:
// started last, a 15-35 s file would leave a core idle at the end of the pass while it finishes alone.
const isLong = (f) => isBrowserTest(f) || /^\/\/ @long:/m.test(sources.get(f));
const files = (skipBrowser ? selected.filter((f) => !isBrowserTest(f)) : selected).sort((a, b) => Number(isLong(b)) - Number(isLong(a)));
if (skipBrowser) console.log(`Not running the ${selected.length - files.length} browser test files (MENAGERIE_TEST_SKIP_BROWSER=1).`);
if (skipDatabaseFree) console.log(`Not running the ${databaseFree.length} @database-free test files again (MENAGERIE_TEST_DATABASE_ONLY=1).`);
if (onlyDatabaseFree) console.log(`Running only the ${databaseFree.length} @database-free test files (MENAGERIE_TEST_DATABASE_FREE_ONLY=1).`);
const env = { ...process.env };
const concurrency = /^[1-9]$/.test(process.env.MENAGERIE_TEST_CONCURRENCY ?? '') ? Number(process.env.MENAGERIE_TEST_CONCURRENCY) : 2;
const tmp = path.join(root, '.tmp');
mkdirSync(tmp, { recursive: true });

const prep = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/prepare-test-template.ts')], {
  cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
});
if (prep.status !== 0) {
  console.error('Could not prepare the test database template.');
  process.exit(prep.status ?? 1);
}
const templatePath = prep.stdout.trim().split('\n').pop();
if (templatePath) env.MENAGERIE_TEST_TEMPLATE = templatePath;
const bundleDir = process.env.MENAGERIE_TEST_BUNDLE !== '0' ? mkdtempSync(path.join(tmp, 'test-bundle-')) : undefined;
let runFiles = files;
if (bundleDir) {
  try {
    runFiles = await bundleTests(root, files, bundleDir);
    await stopBundler();
  } catch (error) {
    console.error(`Could not bundle the test files: ${error.message}`);
    rmSync(bundleDir, { recursive: true, force: true });
    if (templatePath) rmSync(templatePath, { force: true });
    process.exit(1);
  }
}
console.log(`Running ${files.length} test files on ${env.MENAGERIE_TEST_DATABASE_URL ? 'a PostgreSQL server' : 'PGlite'} (Node ${process.version})`);

const result = spawnSync(
  process.execPath,
  [
    ...(bundleDir ? ['--enable-source-maps'] : ['--import', 'tsx']), '--test', `--test-concurrency=${concurrency}`,
    // WebAssembly (PGlite's PostgreSQL) is compiled by V8's baseline compiler only, in the test files' processes (the
    // runner passes its flags on to them): each file starts its own PGlite and runs it for seconds, too short for the
    // optimising tier to repay compiling PostgreSQL's hot functions again. Measured: a quarter less CPU per file.
    '--liftoff-only',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    // After the spec output: the slowest files, for keeping CI within its time budget.
    `--test-reporter=${path.join(root, 'scripts/slowest-files-reporter.mjs')}`, '--test-reporter-destination=stdout',
    ...runFiles,
  ],
  { cwd: root, env, stdio: 'inherit' },
);
if (templatePath) rmSync(templatePath, { force: true });
if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
process.exit(result.status ?? 1);

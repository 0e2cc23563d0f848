// Bundles the test files for `npm test` (scripts/run-tests.mjs): one esbuild pass turns every test file, and the
// TypeScript it imports, into plain ESM under an output folder, with the modules shared between files in common
// chunks. Why: run through tsx, each test file's process spends 1–2 s resolving and transforming a few hundred
// modules through Node 20's off-thread loader hooks, once per file and twice per CI run; bundled, it loads plain
// JavaScript. The compiler is the same (tsx is esbuild underneath), and the sources are not changed on disk.
//
// Sources find their files (views, migrations, fixtures, worker entry points) relative to `import.meta.url`, so
// each source keeps its own location: `import.meta.url`, `.dirname` and `.filename` are replaced by the source
// file's, not the chunk's. The modules that worker threads start from (WORKER_ENTRIES) are bundled too, and the
// sources' `new URL('./entry.ts', import.meta.url)` for them point at their bundles: a JavaScript entry spares the
// worker tsx's start-up (core/module-worker.ts). Child processes start from the .ts sources through tsx, as before.
// Packages stay external, loaded from node_modules by Node itself, except those in BUNDLED_PACKAGES. Source maps
// point stack traces at the .ts files.
import * as esbuild from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Modules that worker threads start from (core/module-worker.ts), relative to the root. */
const WORKER_ENTRIES = ['server/db/pglite-worker.ts', 'observations/classify/offline/training-thread-entry.ts'];

/**
 * Packages bundled into the test chunks rather than loaded from node_modules. drizzle-orm's package.json is 179 KB
 * (447 export entries), and Node 22+ parses its `exports` again for every module it loads from the package: on Node
 * 24 importing drizzle-orm/pg-core takes about 1 s of a test file's start-up (40 ms on Node 20). Bundled, it is read
 * once, by esbuild.
 */
const BUNDLED_PACKAGES = /^drizzle-orm(\/|$)/;

const externalPackages = {
  name: 'external-packages',
  setup(build) {
    // A bare specifier (not relative, absolute or node:) names a package.
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || BUNDLED_PACKAGES.test(args.path)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const bundledPath = (outdir, file) => path.join(outdir, file.replace(/\.[cm]?ts$/, '.mjs'));

const keepSourceLocation = (root, outdir) => ({
  name: 'keep-source-location',
  setup(build) {
    const workerBundles = new Map(WORKER_ENTRIES.map((f) => [path.join(root, f), pathToFileURL(bundledPath(outdir, f)).href]));
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      let contents = await readFile(args.path, 'utf8');
      if (contents.includes('import.meta.')) {
        contents = contents
          .replace(/new URL\((['"])(\.{1,2}\/[^'"]+)\1, import\.meta\.url\)/g, (whole, _quote, relative) => {
            const bundle = workerBundles.get(path.resolve(path.dirname(args.path), relative));
            return bundle ? `new URL(${JSON.stringify(bundle)})` : whole;
          })
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
      }
      return { contents, loader: 'ts' };
    });
  },
});

/** Bundles `files` (paths relative to `root`) into `outdir`; returns each test file's bundled path, in order. */
export async function bundleTests(root, files, outdir) {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [...new Set([...files, ...WORKER_ENTRIES])],
    outdir,
    outbase: root,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    keepNames: true,
    sourcemap: 'linked',
    // Mappings only: Node reads each chunk's map as it loads it, and without the sources' text that costs a test file
    // about 20 ms instead of 140 ms. Stack traces still name the .ts file, line and column.
    sourcesContent: false,
    plugins: [externalPackages, keepSourceLocation(root, outdir)],
    logLevel: 'warning',
  });
  return files.map((f) => bundledPath(outdir, f));
}

/** Ends esbuild's service process, which would otherwise idle beside the test run. */
export async function stopBundler() {
  await esbuild.stop();
}

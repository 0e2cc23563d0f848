// Bundles the test files for `npm test` (scripts/run-tests.mjs): one esbuild pass turns every test file, and the
// TypeScript it imports, into plain ESM under an output folder, with the modules shared between files in common
// chunks. Why: run through tsx, each test file's process spends 1–2 s resolving and transforming a few hundred
// modules through Node 20's off-thread loader hooks, once per file and twice per CI run; bundled, it loads plain
// JavaScript. The compiler is the same (tsx is esbuild underneath), and the sources are not changed on disk.
//
// Sources find their files (views, migrations, fixtures, worker entry points) relative to `import.meta.url`, so
// each source keeps its own location: `import.meta.url`, `.dirname` and `.filename` are replaced by the source
// file's, not the chunk's. Worker threads and child processes start from the .ts sources through tsx, as before.
// Packages stay external, loaded from node_modules by Node itself. Source maps point stack traces at the .ts files.
import * as esbuild from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const keepSourceLocation = {
  name: 'keep-source-location',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      let contents = await readFile(args.path, 'utf8');
      if (contents.includes('import.meta.')) {
        contents = contents
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
      }
      return { contents, loader: 'ts' };
    });
  },
};

/** Bundles `files` (paths relative to `root`) into `outdir`; returns each test file's bundled path, in order. */
export async function bundleTests(root, files, outdir) {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: files,
    outdir,
    outbase: root,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    plugins: [keepSourceLocation],
    logLevel: 'warning',
  });
  return files.map((f) => path.join(outdir, f.replace(/\.[cm]?ts$/, '.mjs')));
}

/** Ends esbuild's service process, which would otherwise idle beside the test run. */
export async function stopBundler() {
  await esbuild.stop();
}

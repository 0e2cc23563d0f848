// A test reporter that prints, when the run ends, the test files that took longest (each file's own process, from
// start to exit): what to look at first when the suite grows towards CI's 20-minute budget. scripts/run-tests.mjs
// uses it beside the spec reporter.
const SHOWN = 15;

export default async function* slowestFiles(source) {
  const files = [];
  let total = 0;
  for await (const event of source) {
    // The runner reports each file as a test named by its path, completed when the file's process has exited.
    if (event.type !== 'test:complete' || event.data.nesting !== 0 || event.data.name !== event.data.file) continue;
    const seconds = (event.data.details?.duration_ms ?? 0) / 1000;
    total += seconds;
    files.push({ file: event.data.file, seconds });
  }
  if (files.length === 0) return;
  files.sort((a, b) => b.seconds - a.seconds);
  yield `\nSlowest test files (seconds each; ${files.length} files, ${total.toFixed(0)} s in all):\n`;
  for (const { file, seconds } of files.slice(0, SHOWN)) yield `  ${seconds.toFixed(1).padStart(7)}  ${sourceName(file)}\n`;
}

// A bundled test file (scripts/bundle-tests.mjs) is named by the source it was built from.
function sourceName(file) {
  return file.replace(process.cwd() + '/', '').replace(/^\.tmp\/test-bundle-[^/]+\/(.*)\.mjs$/, '$1.ts');
}

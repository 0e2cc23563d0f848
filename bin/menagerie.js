#!/usr/bin/env node
// The `menagerie` command. Sources are TypeScript written with erasable syntax only (tsconfig's
// erasableSyntaxOnly), so no build step is needed: Node 24 (and 22.18+) strips the types itself; older Node
// runs them through tsx's loader, which is slower to start (about 0.3 s, and more per module).
if (!process.features.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
// `serve` bounds its young generation first: it may restart itself with a flag before it loads the app.
if (process.argv[2] === 'serve') (await import('../server/young-generation.ts')).boundYoungGeneration();
const { runCli } = await import('../server/cli/index.ts');
process.exitCode = await runCli(process.argv.slice(2), process.env);

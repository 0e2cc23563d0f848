#!/usr/bin/env node
// The `menagerie` command. Sources are TypeScript, run through tsx's loader so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../server/cli/index.ts');
process.exitCode = await runCli(process.argv.slice(2), process.env);

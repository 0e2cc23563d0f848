import path from 'node:path';

/** The package's `menagerie` command (bin/menagerie.js), which tests run as a person would, in a child process. */
const menagerieBin = path.resolve(import.meta.dirname, '../../bin/menagerie.js');

/**
 * Node's arguments for running it: the command and its file, after the test runner's WebAssembly setting
 * (`--liftoff-only`, scripts/run-tests.mjs says why), which a child process does not inherit and NODE_OPTIONS
 * cannot carry.
 */
export function menagerieArgs(...args: string[]): string[] {
  return [...(process.execArgv.includes('--liftoff-only') ? ['--liftoff-only'] : []), menagerieBin, ...args];
}

// `menagerie/sdk`: the helper is written in TypeScript (observe.ts); tsx, a dependency of this package, loads it
// here for this module only, without registering itself for the rest of the program, so plain JavaScript and
// TypeScript projects alike need no build step. Types: index.d.ts (package.json "exports" -> "types").
import { tsImport } from 'tsx/esm/api';

const sdk = await tsImport('./observe.ts', import.meta.url);

export const { observe, flushObserved, flagged } = sdk;

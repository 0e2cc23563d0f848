// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SEMI_SPACE_FLAG, youngGenerationRestart } from './young-generation.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the young generation of menagerie serve', () => {
  it('restarts with a 16 MB semi-space, keeping the Node flags and arguments, unless told otherwise', () => {
    const argv = ['/usr/bin/node', '/app/bin/menagerie.js', 'serve'];
    assert.deepEqual(youngGenerationRestart(['--enable-source-maps'], argv, undefined, true), [
      '/usr/bin/node', `${SEMI_SPACE_FLAG}=16`, '--enable-source-maps', '/app/bin/menagerie.js', 'serve',
    ]);
    assert.equal(youngGenerationRestart([`${SEMI_SPACE_FLAG}=32`], argv, undefined, true), null, 'a flag given wins (and the restart sees its own)');
    assert.equal(youngGenerationRestart([], argv, `--max-old-space-size=512 ${SEMI_SPACE_FLAG}=8`, true), null, 'NODE_OPTIONS wins');
    assert.equal(youngGenerationRestart([], argv, undefined, false), null, 'no restart where Node cannot replace its process');
  });

  it('serve runs with the flag in the same process where Node can replace it', { timeout: 60_000 }, () => {
    // `serve --help` goes through the restart and prints the flags it runs with, without starting a server.
    const probe = `process.on('exit', () => console.error('EXEC_ARGV ' + JSON.stringify(process.execArgv)));`;
    const res = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(probe)}`, path.join(root, 'bin/menagerie.js'), 'serve', '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    assert.equal(res.status, 0, res.stderr);
    const execArgv = JSON.parse(/EXEC_ARGV (.*)/.exec(res.stderr)![1]!) as string[];
    const canReplace = typeof (process as { execve?: unknown }).execve === 'function';
    assert.equal(execArgv.includes(`${SEMI_SPACE_FLAG}=16`), canReplace, `execArgv ${JSON.stringify(execArgv)}`);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { waitFor } from '../../scripts/harness/wait.ts';

const root = join(import.meta.dirname, '..', '..');

/** Processes whose working dir is under `dir` (a disposable redis-server runs in its data dir). */
async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd.startsWith(dir)) found.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}`);
  }
  return found;
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`verify stopped with ${signal} mid-run leaves no scratch dir and no server behind`, async () => {
    // Its own TMPDIR, so that what it leaves (and only that) is seen, whatever else runs meanwhile.
    const own = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}interrupted-`));
    try {
      const run = execa(process.execPath, ['scripts/verify/main.ts', '--only', 'backup-manual', '--engines', 'redis-7.0', '--flavor', 'host', '--report', join(own, 'verify.json')], {
        cwd: root,
        env: { TMPDIR: own },
        reject: false,
        all: true,
        timeout: 120_000,
      });
      // Mid-run: its scratch dir and its server's data dir exist, and the server runs there.
      await waitFor(
        async () => {
          const names = await readdir(own);
          return names.some((name) => name.startsWith(`${TEMP_PREFIX}verify-`)) && (await processesIn(own)).length > 0;
        },
        { what: 'the verification to start its server', timeoutMs: 60_000 },
      );
      run.kill(signal);
      const result = await run;
      assert.notEqual(result.exitCode, 0, result.all);
      assert.deepEqual((await readdir(own)).filter((name) => name.startsWith(TEMP_PREFIX)), [], 'no temp dir is left');
      await waitFor(async () => (await processesIn(own)).length === 0, { what: 'the verification\'s server to be gone', timeoutMs: 10_000 });
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
}

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { BIN, runCli } from '../support/run-cli.ts';

/**
 * These tests set this machine's real clock (a clock jump is a machine's, and Redis cannot run under
 * libfaketime: it clashes with jemalloc), so they run alone, after the other suites (npm run
 * test:serial), and always put the clock back: to the time before plus what the monotonic clock says
 * has passed.
 */
async function withClockJump<T>(seconds: number, during: (jump: () => Promise<void>) => Promise<T>): Promise<T> {
  const wallBefore = Date.now();
  const monotonicBefore = performance.now();
  const clock = { jumped: false };
  try {
    return await during(async () => {
      await execa('date', ['-u', '-s', `@${((Date.now() + seconds * 1000) / 1000).toFixed(3)}`]);
      clock.jumped = true;
    });
  } finally {
    if (clock.jumped) await execa('date', ['-u', '-s', `@${((wallBefore + performance.now() - monotonicBefore) / 1000).toFixed(3)}`]);
  }
}

for (const seconds of [-3600, 3600]) {
  const direction = seconds < 0 ? 'back' : 'forward';
  test(`a backup completes when the machine's clock jumps ${direction} an hour while the snapshot is written`, async (t) => {
    const fault = await faultCase(
      t,
      import.meta.url,
      `clock-jump.${direction}`,
      'Interrupted work',
      `the machine's clock set ${direction} an hour during a backup`,
    );
    await using redis = await startRedis({
      config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' },
    });
    await redis.withClient((client) => client.call('DEBUG', 'POPULATE', 1_000_000, 'key', 40));
    const to = join(redis.root, 'backups');
    const run = await withClockJump(seconds, async (jump) => {
      const child = execa(process.execPath, [BIN, 'backup', '--url', redis.url, '--to', to, '--json'], {
        reject: false,
        timeout: 120_000,
        stdin: 'ignore',
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // The jump lands while the snapshot is being written.
      await waitFor(() => stderr.includes('saving'), { what: 'the backup to start its snapshot', timeoutMs: 60_000, intervalMs: 10 });
      await jump();
      const result = await child;
      return { exitCode: result.exitCode, stdout: result.stdout, stderr };
    });
    assert.equal(run.exitCode, 0, `the backup ended with ${run.exitCode} after the jump: ${run.stderr}`);
    const { path } = JSON.parse(run.stdout) as { path: string };
    const checked = await runCli(['check', path]);
    assert.equal(checked.exitCode, 0, checked.stderr);
    await fault.passed(
      "the backup completed and checks out: its waits compare the server's clock with itself, and ask only that it changed",
      0,
      await answeringServer(redis),
    );
  });
}

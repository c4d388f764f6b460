import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { startCliChild } from '../support/containers.ts';
import { killBackupInEachPhase, populatedForKills } from '../support/kills.ts';
import { runCli } from '../support/run-cli.ts';

test('backup killed with SIGKILL in each of its phases: no partial backup listed, the server as it was, and a re-run completes', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'kill.backup',
    'Interrupted work',
    'backup killed with SIGKILL while it saves, copies the RDB, checks it and copies the AOF set',
  );
  await using redis = await startRedis({
    config: { appendonly: 'yes', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no', 'auto-aof-rewrite-percentage': 77 },
  });
  await populatedForKills(redis);
  const tmp = join(redis.root, 'tmp');
  await mkdir(tmp);
  const hit = await killBackupInEachPhase(redis, {
    target: ['--url', redis.url],
    to: join(redis.root, 'backups'),
    env: { TMPDIR: tmp },
    // The server keeps its settings and saves normally.
    async afterKill(phase) {
      const config = await redis.withClient((client) => client.call('CONFIG', 'GET', 'auto-aof-rewrite-percentage'));
      assert.deepEqual(
        config,
        ['auto-aof-rewrite-percentage', '77'],
        `after a kill at ${phase.source}, the server's auto-aof-rewrite-percentage is as before`,
      );
    },
  });
  await fault.passed(
    `killed in ${hit.length} phases: no partial backup listed, the server's settings as before, the next backup completed`,
    null,
    await answeringServer(redis),
  );
});

test('restore killed with SIGKILL at points across its run: the data dir loads as before or as the backup, and a re-run completes', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'kill.restore',
    'Interrupted work',
    'restore killed with SIGKILL at 8 points of its run',
  );
  await using redis = await startRedis({
    config: { appendonly: 'yes', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' },
  });
  await redis.withClient((client) => client.call('DEBUG', 'POPULATE', 1_000_000, 'a', 40));
  const digestNow = () => redis.withClient((client) => client.call('DEBUG', 'DIGEST'));
  const a = await digestNow();
  const made = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  const backup = (JSON.parse(made.stdout) as { path: string }).path;
  /** Dataset B (one key written after the backup) in a freshly rewritten AOF. */
  const toB = async () => {
    await redis.withClient(async (client) => {
      await client.flushall();
      await client.set('B', 'after the backup');
      await client.bgrewriteaof();
    });
    await waitFor(async () => (await redis.info('persistence')).persistence?.aof_rewrite_in_progress === '0', {
      what: 'the AOF rewrite',
      timeoutMs: 60_000,
    });
  };
  await toB();
  const b = await digestNow();
  await redis.stop();

  const tmp = join(redis.root, 'tmp');
  await mkdir(tmp);
  // How long a whole restore takes here, to spread the kills across it.
  const started = Date.now();
  const whole = await runCli(['restore', backup, '--data-dir', redis.dir]);
  assert.equal(whole.exitCode, 0, whole.stderr);
  const duration = Date.now() - started;
  await redis.start();
  assert.equal(await digestNow(), a);
  await toB();
  assert.equal(await digestNow(), b);
  await redis.stop();

  let before = 0;
  let after = 0;
  for (let i = 1; i <= 8; i++) {
    const { child } = startCliChild(['restore', backup, '--data-dir', redis.dir], { TMPDIR: tmp });
    const delay = Math.round((duration * i) / 9);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      void child.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    child.kill('SIGKILL');
    await child;
    await redis.start();
    const loaded = await digestNow();
    assert.ok(
      loaded === a || loaded === b,
      `after a kill at ${delay} ms the server loads the data from before or the backup, not ${String(loaded)}`,
    );
    if (loaded === a) after++;
    else before++;
    // Back to B for the next round, unless this one still holds it.
    if (loaded === a) {
      await toB();
    }
    await redis.stop();
  }
  const rerun = await runCli(['restore', backup, '--data-dir', redis.dir]);
  assert.equal(rerun.exitCode, 0, rerun.stderr);
  await redis.start();
  assert.equal(await digestNow(), a, 'a restore after the kills completes');
  await fault.passed(
    `after each kill the server loaded the data from before (${before}) or the backup (${after}); a re-run completed`,
    null,
    await answeringServer(redis),
  );
});

test('restore killed at each step that switches the data dir over: it loads the data from before until the AOF manifest is switched, the backup after, never nothing', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'kill.restore-switch',
    'Interrupted work',
    'restore killed with SIGKILL at each step that switches the data dir from the old files to the backup',
  );
  await using redis = await startRedis({ config: { appendonly: 'yes', save: '""' } });
  await redis.withClient((client) => client.mset('k1', 'a', 'k2', 'a'));
  const made = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  const backup = (JSON.parse(made.stdout) as { path: string }).path;
  const readAll = () => redis.withClient(async (client) => JSON.stringify(await client.mget('k1', 'k2', 'B')));
  const toB = async () => {
    await redis.withClient(async (client) => {
      await client.flushall();
      await client.set('B', 'after the backup');
    });
  };
  await toB();
  const b = await readAll();
  await redis.stop();
  const a = JSON.stringify(['a', 'a', null]);

  const tmp = join(redis.root, 'tmp');
  await mkdir(tmp);
  const expected: Record<string, string> = {
    'restore-file-linked': b,
    'restore-before-manifest-switch': b,
    'restore-after-manifest-switch': a,
  };
  for (const [point, want] of Object.entries(expected)) {
    const { child, lines, state } = startCliChild(['restore', backup, '--data-dir', redis.dir], {
      TMPDIR: tmp,
      REDIS_PLAYBOOK_STOP_AT: point,
    });
    const pid = child.pid as number;
    // The CLI stops itself (SIGSTOP) at the step: state T in /proc.
    await waitFor(async () => state.exited || /^\d+ \(.*\) T /.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')), {
      what: `the restore to stop at ${point}`,
      timeoutMs: 60_000,
    });
    assert.equal(state.exited, false, `the restore ended before ${point}: ${lines.join(' | ')}`);
    child.kill('SIGKILL');
    await child;
    await redis.start();
    assert.equal(await readAll(), want, `killed at ${point}: the server loads ${want === a ? 'the backup' : 'the data from before'}`);
    if (want === a) await toB();
    await redis.stop();
  }
  const asides = (await readdir(redis.dir)).filter((name) => name.startsWith('pre-restore-'));
  assert.ok(asides.length >= 1, 'the killed runs left their undo folders');
  const rerun = await runCli(['restore', backup, '--data-dir', redis.dir]);
  assert.equal(rerun.exitCode, 0, rerun.stderr);
  await redis.start();
  assert.equal(await readAll(), a, 'a restore after the kills completes');
  await fault.passed(
    'killed before the AOF manifest switch it loads the data from before, after it the backup; a re-run completed',
    null,
    await answeringServer(redis),
  );
});

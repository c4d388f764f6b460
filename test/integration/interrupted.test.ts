import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { flattenInfo, parseInfo } from '../../scripts/redis/info.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { BIN, runCli } from '../support/run-cli.ts';

/**
 * `redis-playbook ARGS` as a child this test can kill, with its stderr lines as they come. Its TMPDIR
 * is `tmp` (inside the test server's dir): what a killed run leaves there (a checker's probe file) goes
 * with the server's dir, not into the machine's temp dir.
 */
function startCli(args: string[], tmp: string, env: Record<string, string> = {}) {
  const child = execa(process.execPath, [BIN, ...args], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    env: { TMPDIR: tmp, ...env },
  });
  const lines: string[] = [];
  const state = { exited: false };
  void child.then(() => (state.exited = true));
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete);
  });
  return { child, lines, state };
}

const listed = async (to: string) => {
  const run = await runCli(['backups', '--to', to, '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  return (JSON.parse(run.stdout) as { backups: { path: string; createdAt?: string; problem?: string }[] }).backups;
};

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
  await redis.withClient(async (client) => {
    await client.call('DEBUG', 'POPULATE', 1_000_000, 'key', 40);
    await client.bgrewriteaof();
  });
  await waitFor(async () => (await redis.info('persistence')).persistence?.aof_rewrite_in_progress === '0', {
    what: 'the AOF rewrite',
    timeoutMs: 60_000,
  });
  const to = join(redis.root, 'backups');
  const tmp = join(redis.root, 'tmp');
  await mkdir(tmp);
  const phases = [
    /^saving/,
    /^copying dump\.rdb/,
    /^checking/,
    /^copying appendonly\.aof\.manifest/,
    /^copying appendonly\.aof\.\d+\.incr\.aof/,
  ];
  const hit: string[] = [];
  for (const phase of phases) {
    const { child, lines, state } = startCli(['backup', '--url', redis.url, '--to', to], tmp);
    // Killed as soon as the phase shows; a phase this run passed too fast to see is not counted.
    await waitFor(async () => lines.some((line) => phase.test(line)) || state.exited, {
      what: `backup to reach ${phase}`,
      timeoutMs: 120_000,
      intervalMs: 5,
    });
    if (!state.exited) {
      child.kill('SIGKILL');
      hit.push(phase.source);
    }
    await child;
    // Never a partial backup listed; the server keeps its settings and saves normally.
    // An interrupted run's folder shows as what it is, never as a backup.
    for (const entry of await listed(to)) {
      if (entry.problem === undefined) assert.ok(entry.createdAt, `${entry.path} is listed as a backup without a snapshot time`);
      else assert.match(entry.problem, /incomplete \(in progress, or interrupted\)/);
    }
    const config = await redis.withClient((client) => client.call('CONFIG', 'GET', 'auto-aof-rewrite-percentage'));
    assert.deepEqual(
      config,
      ['auto-aof-rewrite-percentage', '77'],
      `after a kill at ${phase.source}, the server's auto-aof-rewrite-percentage is as before`,
    );
    await waitFor(async () => (await redis.info('persistence')).persistence?.rdb_bgsave_in_progress === '0', {
      what: 'the save the backup started',
      timeoutMs: 60_000,
    });
  }
  assert.ok(hit.length >= 3, `kills landed in ${hit.join(', ')}`);
  const completes = await runCli(['backup', '--url', redis.url, '--to', to, '--json']);
  assert.equal(completes.exitCode, 0, completes.stderr);
  assert.equal(
    (await listed(to)).filter((entry) => entry.problem === undefined).length,
    1 + phases.length - hit.length,
    'only complete backups are listed as backups',
  );
  const persistence = flattenInfo(parseInfo(await redis.withClient((client) => client.info('persistence'))));
  assert.equal(persistence.rdb_last_bgsave_status, 'ok');
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
  await redis.withClient(async (client) => {
    await client.flushall();
    await client.set('B', 'after the backup');
    await client.bgrewriteaof();
  });
  await waitFor(async () => (await redis.info('persistence')).persistence?.aof_rewrite_in_progress === '0', {
    what: 'the AOF rewrite',
    timeoutMs: 60_000,
  });
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
  await redis.withClient(async (client) => {
    await client.flushall();
    await client.set('B', 'after the backup');
    await client.bgrewriteaof();
  });
  await waitFor(async () => (await redis.info('persistence')).persistence?.aof_rewrite_in_progress === '0', {
    what: 'the AOF rewrite',
    timeoutMs: 60_000,
  });
  assert.equal(await digestNow(), b);
  await redis.stop();

  let before = 0;
  let after = 0;
  for (let i = 1; i <= 8; i++) {
    const { child } = startCli(['restore', backup, '--data-dir', redis.dir], tmp);
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
      await redis.withClient(async (client) => {
        await client.flushall();
        await client.set('B', 'after the backup');
        await client.bgrewriteaof();
      });
      await waitFor(async () => (await redis.info('persistence')).persistence?.aof_rewrite_in_progress === '0', {
        what: 'the AOF rewrite',
        timeoutMs: 60_000,
      });
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
    const { child, lines, state } = startCli(['restore', backup, '--data-dir', redis.dir], tmp, { REDIS_PLAYBOOK_STOP_AT: point });
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

import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { LOCK_FILE, lockDataDir } from '../../scripts/procedures/lock.ts';
import { writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { BIN, assertOneLineFailure, runCli } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';

/** A stopped RDB server whose data dir holds dataset B, with a backup of dataset A (made with enough keys that a restore takes a moment). */
async function stoppedServerWithBackup() {
  const redis = await startRedis({ config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local' } });
  await redis.withClient(async (client) => {
    await client.call('DEBUG', 'POPULATE', 200_000, 'key', 64);
    await writeMixedDataset(client, 'A', 10);
  });
  // DEBUG DIGEST compares whole datasets at once (reading 200,000 keys one by one takes a minute).
  const a = await redis.withClient((client) => client.call('DEBUG', 'DIGEST'));
  const run = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  await redis.withClient(async (client) => {
    await client.flushall();
    await client.set('B', 'written after the backup');
    await client.save();
  });
  await redis.stop();
  return { redis, a, backup: (JSON.parse(run.stdout) as { path: string }).path };
}

test('a second restore of a data dir refuses while the first holds it, naming the holder; the first completes', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'lock.two-restores',
    'Concurrency',
    'a second restore of the same data dir while the first runs',
  );
  const { redis, a, backup } = await stoppedServerWithBackup();
  await using _ = redis;
  const first = execa(process.execPath, [BIN, 'restore', backup, '--data-dir', redis.dir], { reject: false });
  try {
    // Freeze the first restore as soon as it holds the dir, so the second one meets it for certain.
    await waitFor(async () => (await readdir(redis.dir)).includes(LOCK_FILE), {
      what: 'the first restore to take the lock',
      timeoutMs: 30_000,
      intervalMs: 5,
    });
    first.kill('SIGSTOP');
    const before = await treeDigest(redis.dir);
    const second = await runCli(['restore', backup, '--data-dir', redis.dir]);
    assertOneLineFailure(
      second,
      8,
      new RegExp(
        `${redis.dir} is in use by redis-playbook restore \\(pid ${first.pid} on ${hostname()}, since [0-9T:.-]+Z\\): wait for it to finish`,
      ),
    );
    assert.deepEqual(await treeDigest(redis.dir), before, 'the second restore changed nothing');
  } finally {
    first.kill('SIGCONT');
  }
  const done = await first;
  assert.equal(done.exitCode, 0, done.stderr);
  assert.ok(!(await readdir(redis.dir)).includes(LOCK_FILE), 'the lock is gone after the restore');
  await redis.start();
  assert.equal(await redis.withClient((client) => client.call('DEBUG', 'DIGEST')), a, 'the backup is what the server loads');
  await fault.passed(
    'the second refused, naming the first (pid, host, start time), and changed nothing; the first completed',
    8,
    await answeringServer(redis),
  );
});

test('a backup refuses while a restore holds the data dir, and goes on once it is released', async (t) => {
  const fault = await faultCase(t, import.meta.url, 'lock.backup-during-restore', 'Concurrency', 'a backup of a data dir a restore holds');
  await using redis = await startRedis({ config: { appendonly: 'no', save: '900 1' } });
  await redis.withClient((client) => writeMixedDataset(client, 'A', 5));
  const server = await answeringServer(redis);
  const to = join(redis.root, 'backups');
  {
    // A restore of this machine (this test process) holds the dir.
    await using _held = await lockDataDir(redis.dir, 'restore');
    const refused = await runCli(['backup', '--url', redis.url, '--to', to]);
    assertOneLineFailure(refused, 8, new RegExp(`is in use by redis-playbook restore \\(pid ${process.pid} `));
    assert.deepEqual(await readdir(to).catch(() => []), [], 'no backup was started');
  }
  const run = await runCli(['backup', '--url', redis.url, '--to', to]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.deepEqual(
    (await readdir(redis.dir)).filter((name) => name.startsWith('.redis-playbook')),
    [],
    'the backup released its lock',
  );

  // And the other way round: a restore refuses while a backup reads the dir (backups share it).
  await redis.stop();
  {
    await using _reading = await lockDataDir(redis.dir, 'backup', { shared: true });
    await using _alsoReading = await lockDataDir(redis.dir, 'backup', { shared: true });
    const before = await treeDigest(redis.dir);
    const refused = await runCli([
      'restore',
      (JSON.parse((await runCli(['backups', '--to', to, '--json'])).stdout) as { backups: { path: string }[] }).backups[0]!.path,
      '--data-dir',
      redis.dir,
    ]);
    assertOneLineFailure(refused, 8, new RegExp(`is in use by redis-playbook backup \\(pid ${process.pid} `));
    assert.deepEqual(await treeDigest(redis.dir), before);
  }
  await fault.passed(
    'refused naming the restore; once it was released the backup ran (and a restore refuses while backups read the dir)',
    8,
    server,
  );
});

test('a lock left by a run that was killed is taken over, and a foreign lock file is refused', async (t) => {
  const fault = await faultCase(t, import.meta.url, 'lock.stale', 'Concurrency', 'a lock left by a restore that was killed');
  const { redis, a, backup } = await stoppedServerWithBackup();
  await using _ = redis;
  const gone = execa('true');
  await gone;
  await writeFile(
    join(redis.dir, LOCK_FILE),
    JSON.stringify({ pid: gone.pid, command: 'restore', host: hostname(), since: '2026-01-01T00:00:00.000Z' }),
  );
  const run = await runCli(['restore', backup, '--data-dir', redis.dir]);
  assert.equal(run.exitCode, 0, run.stderr);
  await redis.start();
  assert.equal(await redis.withClient((client) => client.call('DEBUG', 'DIGEST')), a, 'the backup is what the server loads');
  await redis.stop();

  await writeFile(join(redis.dir, LOCK_FILE), 'somebody else\n');
  const before = await treeDigest(redis.dir);
  const refused = await runCli(['restore', backup, '--data-dir', redis.dir]);
  assertOneLineFailure(refused, 8, /holds a lock file \.redis-playbook\.lock that is not redis-playbook's/);
  assert.deepEqual(await treeDigest(redis.dir), before);
  await fault.passed('taken over (its process is gone), and the restore completed; a lock file not of redis-playbook is refused', 0);
});

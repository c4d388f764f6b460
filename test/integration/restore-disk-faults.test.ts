import assert from 'node:assert/strict';
import { chmod, chown, cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis, type DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { BIN, assertOneLineFailure, runCli, type CliRun } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';
import { mountTmpfs } from '../support/tmpfs.ts';
import { assertRefusedReadOnly, assertRefusedUnchanged } from '../support/refusals.ts';

/**
 * A stopped server (dataset B) and a backup of dataset A of about 7 MB; `smallDataDir` puts the data
 * dir on a 4 MB tmpfs of its own (its files copied onto it), which a 7 MB snapshot cannot fit.
 */
async function stoppedServerWithBackup(t: { after(fn: () => Promise<unknown>): void }, smallDataDir: boolean) {
  const redis = await startRedis({ config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } });
  let disk: AsyncDisposable | undefined;
  // The tmpfs goes first: the server's dir cannot be removed while it is mounted on.
  t.after(async () => {
    await disk?.[Symbol.asyncDispose]();
    await redis[Symbol.asyncDispose]();
  });
  await redis.withClient((client) => client.call('DEBUG', 'POPULATE', 60_000, 'key', 100));
  const made = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  await redis.withClient(async (client) => {
    await client.flushall();
    await client.set('B', 'after the backup');
    await client.save();
  });
  const server = await answeringServer(redis);
  await redis.stop();
  if (smallDataDir) {
    const saved = join(redis.root, 'data-before-mount');
    await cp(redis.dir, saved, { recursive: true });
    disk = await mountTmpfs(redis.dir, '4m');
    await cp(saved, redis.dir, { recursive: true });
  }
  return { redis, server, backup: (JSON.parse(made.stdout) as { path: string }).path };
}

async function assertStartsWithB(redis: DisposableRedis) {
  await redis.start();
  assert.equal(
    await redis.withClient((client) => client.get('B')),
    'after the backup',
    'the server loads the data from before the restore',
  );
  await redis.stop();
}

test('restore into a data dir without room for the snapshot refuses before copying, the dir as it was', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'restore.data-dir-full',
    'Disk and files',
    'restore of a 7 MB snapshot into a data dir on a 4 MB disk',
  );
  const { redis, server, backup } = await stoppedServerWithBackup(t, true);
  await assertRefusedUnchanged(
    redis.dir,
    ['restore', backup, '--data-dir', redis.dir],
    6,
    new RegExp(`Not enough space for the restored snapshot in ${redis.dir}: needs [67]\\.\\d MB, [34]\\.\\d MB free on ${redis.dir}`),
  );
  await assertStartsWithB(redis);
  await fault.passed('refused before copying, naming the space needed and free; the data dir as it was, and it loads', 6, server);
});

test('restore into a read-only data dir refuses, the dir as it was', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'restore.data-dir-read-only',
    'Disk and files',
    'restore into a data dir on a read-only file system',
  );
  const { redis, server, backup } = await stoppedServerWithBackup(t, true);
  await assertRefusedReadOnly(redis.dir, ['restore', backup, '--data-dir', redis.dir]);
  await assertStartsWithB(redis);
  await fault.passed('refused in one line, the file system named read-only; the data dir as it was', 6, server);
});

test('a backup on another file system than the data dir restores all the same', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'restore.other-file-system',
    'Disk and files',
    'restore from a backup on another file system (a tmpfs) than the data dir',
  );
  const { redis, server, backup } = await stoppedServerWithBackup(t, false);
  const elsewhere = join(redis.root, 'other disk');
  await using _disk = await mountTmpfs(elsewhere, '64m');
  await cp(backup, join(elsewhere, 'backup'), { recursive: true });
  const run = await runCli(['restore', join(elsewhere, 'backup'), '--data-dir', redis.dir, '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  await redis.start();
  assert.equal(await redis.withClient((client) => client.dbsize()), 60_000);
  await redis.stop();
  await fault.passed(
    'restored: the snapshot is copied into the data dir (never linked to the backup), so another file system makes no difference',
    0,
    server,
  );
});

/** The CLI as a user the files below deny: root without the capabilities that bypass file permissions. */
async function runWithoutOverride(args: string[]): Promise<CliRun> {
  const drop = '-dac_override,-dac_read_search';
  const result = await execa('setpriv', [`--inh-caps=${drop}`, `--bounding-set=${drop}`, '--', process.execPath, BIN, ...args], {
    reject: false,
    timeout: 60_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: `${result.stderr}\n`.replace(/\n+$/, '\n') };
}

test('permission denied names the path and the user: a backup dir, a data dir and a backup it may not use', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'permission-denied',
    'Disk and files',
    'backup into, restore into and check from dirs the user may not use',
  );
  await using redis = await startRedis({ config: { appendonly: 'no' } });
  const made = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  const backup = (JSON.parse(made.stdout) as { path: string }).path;
  // Dirs of another user (nobody), closed to everyone else.
  const closed = join(redis.root, 'closed');
  await mkdir(closed);
  await chown(closed, 65534, 65534);
  await chmod(closed, 0o700);
  await redis.withClient((client) => client.save());

  const intoClosed = await runWithoutOverride(['backup', '--url', redis.url, '--to', join(closed, 'backups')]);
  assertOneLineFailure(
    intoClosed,
    6,
    new RegExp(`Cannot create the backup dir ${closed}/backups: .*permission denied.* \\(as user root\\)`, 'i'),
  );
  assert.deepEqual(await readdir(closed), []);

  await redis.stop();
  const before = await treeDigest(redis.dir);
  await chown(redis.dir, 65534, 65534);
  await chmod(redis.dir, 0o700);
  const restoreClosed = await runWithoutOverride(['restore', backup, '--data-dir', redis.dir]);
  assertOneLineFailure(restoreClosed, 6, new RegExp(`${redis.dir}.*(permission denied|cannot be read).* \\(as user root\\)`, 'i'));
  await chmod(redis.dir, 0o755);
  await chown(redis.dir, 0, 0);
  assert.deepEqual(await treeDigest(redis.dir), before, 'the data dir is byte-identical');

  await chown(backup, 65534, 65534);
  await chmod(backup, 0o700);
  const checkClosed = await runWithoutOverride(['check', backup]);
  assertOneLineFailure({ ...checkClosed, stdout: '' }, 6, new RegExp(`${backup}.*permission denied.* \\(as user root\\)`, 'i'));
  await rm(closed, { recursive: true, force: true });
  await fault.passed('one line each naming the path, "permission denied" and the user; nothing created or changed', 6);
});

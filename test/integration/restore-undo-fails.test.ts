import assert from 'node:assert/strict';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { exitCodeFor } from '../../scripts/core/exit-codes.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { backupThenReplaceWithB } from '../support/backup.ts';
import { cliCommand } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('restore whose undo fails too exits 12 naming where each file is, and nothing is deleted', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'restore.undo-fails',
    'Disk and files',
    'restore that fails and whose undo fails too: the data dir turns read-only (a bind mount) between its switches',
  );
  const redis = await startRedis({ config: { appendonly: 'yes', save: '""' } });
  let readOnly = false;
  // The read-only mount goes first (if the test stopped while it was there): the server's dir cannot be removed under it.
  t.after(async () => {
    if (readOnly) await execa('umount', [redis.dir]);
    await redis[Symbol.asyncDispose]();
  });
  await redis.withClient((client) => client.mset('k1', 'a', 'k2', 'a'));
  const backup = await backupThenReplaceWithB(redis);
  const server = await answeringServer(redis);
  await redis.stop();
  const before = await treeDigest(redis.dir);
  const tmp = join(redis.root, 'tmp');
  await mkdir(tmp);

  // The restore stops itself after it switched dump.rdb over and before the AOF manifest switch; there
  // a read-only bind mount of the data dir onto itself covers it (the restore's open files stay
  // writable, on the mount below), so the switch fails and so does moving dump.rdb back.
  const command = cliCommand(['restore', backup, '--data-dir', redis.dir], {
    TMPDIR: tmp,
    REDIS_PLAYBOOK_STOP_AT: 'restore-before-manifest-switch',
  });
  const child = execa(command.file, command.args, { ...command.options, reject: false, stripFinalNewline: false, timeout: 120_000 });
  const state = { exited: false };
  void child.then(() => (state.exited = true));
  const pid = child.pid as number;
  await waitFor(async () => state.exited || /^\d+ \(.*\) T /.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')), {
    what: 'the restore to stop before the AOF manifest switch',
    timeoutMs: 60_000,
  });
  assert.equal(state.exited, false, 'the restore ended before the AOF manifest switch');
  await execa('mount', ['--bind', redis.dir, redis.dir]);
  readOnly = true;
  await execa('mount', ['-o', 'remount,bind,ro', redis.dir]);
  child.kill('SIGCONT');
  const finished = await child;
  const run = { exitCode: finished.exitCode, stdout: String(finished.stdout), stderr: String(finished.stderr) };
  await execa('umount', [redis.dir]);
  readOnly = false;

  assert.equal(run.exitCode, exitCodeFor('undo'), run.stderr);
  assert.equal(exitCodeFor('undo'), 12);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^redis-playbook: [^\n]+\n$/, 'one line');
  const dir = escape(redis.dir);
  const message = new RegExp(
    `^redis-playbook: Restore into ${dir} failed \\(.*read-only.*\\) and so did putting the previous files back \\(.*read-only.*\\); nothing was deleted: ` +
      `the previous dump\\.rdb is in (${dir}/pre-restore-[^/ ]+)/dump\\.rdb: move it back to ${dir}/dump\\.rdb; `,
  );
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /was undone/);
  const aside = message.exec(run.stderr)?.[1] as string;

  // Nothing was deleted: every file of before is where it was with the same bytes, or (dump.rdb) in the undo folder.
  const after = await treeDigest(redis.dir);
  for (const [name, digest] of before) {
    const where = name === 'dump.rdb' ? `${aside.slice(redis.dir.length + 1)}/dump.rdb` : name;
    assert.equal(after.get(where), digest, `${name} is in ${where} as it was`);
  }
  // Done as the message says, the server starts with the data from before.
  await rename(join(aside, 'dump.rdb'), join(redis.dir, 'dump.rdb'));
  await redis.start();
  assert.deepEqual(await redis.withClient((client) => client.mget('k1', 'B')), [null, 'after the backup']);
  await redis.stop();
  await fault.passed(
    'exit 12, one line: the failure, the failed undo, and where each file is (the previous dump.rdb in the undo folder); nothing deleted, and moved back as told it loads the data from before',
    12,
    server,
  );
});

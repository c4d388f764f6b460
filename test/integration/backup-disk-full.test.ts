import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { flattenInfo, parseInfo } from '../../scripts/redis/info.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';

/** A 2 MB tmpfs mounted at `dir` for the test's life (unmounted by `await using`). */
async function smallDisk(dir: string) {
  await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', dir]);
  return { [Symbol.asyncDispose]: () => execa('umount', [dir]).then(() => undefined) };
}

/** About 7 MB of RDB: 60,000 keys of 100 bytes, uncompressed. */
const POPULATE = ['DEBUG', 'POPULATE', 60_000, 'key', 100] as const;

async function assertNothingListed(to: string) {
  assert.deepEqual(await readdir(to), [], 'nothing is left in the backup dir, not even a partial copy');
  const listed = await runCli(['backups', '--to', to, '--json']);
  assert.equal(listed.exitCode, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as { backups: unknown[] }).backups, []);
}

/** The server still saves normally: a BGSAVE after the failed backup completes with status ok. */
async function assertServerSaves(redis: Awaited<ReturnType<typeof startRedis>>) {
  await redis.withClient(async (client) => {
    const before = await client.lastsave();
    await waitFor(async () => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE', timeoutMs: 5_000 });
    await client.bgsave();
    await waitFor(async () => (await client.lastsave()) !== before, { what: 'the BGSAVE to complete', timeoutMs: 30_000 });
    assert.equal(flattenInfo(parseInfo(await client.info('persistence'))).rdb_last_bgsave_status, 'ok');
  });
}

test('a backup into a dir with too little space is refused before copying: exit 6, how much it needs and has', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'backup-disk-full.before-copying',
    'Disk and files',
    'backup into a 2 MB disk, the last snapshot 7 MB',
  );
  await using redis = await startRedis({ config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } });
  await redis.withClient(async (client) => {
    await client.call(...POPULATE);
    await client.save();
  });
  const to = join(redis.root, 'small disk');
  await using _disk = await smallDisk(to);
  const run = await runCli(['backup', '--url', redis.url, '--to', to]);
  assertOneLineFailure(run, 6, new RegExp(`Not enough space for the backup in ${to}: needs [67]\\.\\d MB, 2\\.\\d MB free on ${to}$`, 'm'));
  await assertNothingListed(to);
  await assertServerSaves(redis);
  await fault.passed(
    'refused before copying, naming the space needed and free; nothing left in the dir; the server still saves',
    run.exitCode,
    await answeringServer(redis),
  );
});

test('a backup that fills its disk anyway removes its partial copy: exit 6, the disk named, nothing listed', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'backup-disk-full.during-copy',
    'Disk and files',
    'backup into a 2 MB disk that fills during the copy (the dataset grew since the last save)',
  );
  // The last snapshot is tiny, so the estimate passes; the dataset written since does not fit.
  await using redis = await startRedis({ config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } });
  await redis.withClient(async (client) => {
    await client.set('small', 'yes');
    await client.save();
    await client.call(...POPULATE);
  });
  const to = join(redis.root, 'small disk');
  await using _disk = await smallDisk(to);
  const run = await runCli(['backup', '--url', redis.url, '--to', to]);
  // Progress lines come first on stderr; the failure is its last line, alone.
  const lastLine = `${run.stderr.trimEnd().split('\n').at(-1) ?? ''}\n`;
  assertOneLineFailure(
    { ...run, stderr: lastLine },
    6,
    new RegExp(`The disk of ${to} filled up during the backup \\(2\\.\\d MB was free on ${to}; .*\\); the partial copy was removed`),
  );
  assert.doesNotMatch(run.stderr, /Unexpected error|\n\s+at /);
  await assertNothingListed(to);
  await assertServerSaves(redis);
  await fault.passed(
    'stopped when the disk filled, removed its partial copy, said so in one line; nothing listed; the server still saves',
    run.exitCode,
    await answeringServer(redis),
  );
});

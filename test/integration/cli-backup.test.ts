import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { checkBackup, type CheckResult } from '../../scripts/procedures/check.ts';
import type { BackupManifest } from '../../scripts/procedures/manifest.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';

const PASSWORD = 'correct horse battery';

/** A server with a dataset and one backup of it made through the CLI. */
async function serverWithBackup(config: Record<string, string>) {
  const redis = await startRedis({ config, password: PASSWORD, dataDirName: 'data dir' });
  await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
  const to = join(redis.root, 'backups with spaces');
  const run = await runCli(['backup', '--url', redis.url, '--to', to, '--json'], { REDISCLI_AUTH: PASSWORD });
  assert.equal(run.exitCode, 0, run.stderr);
  const { path } = JSON.parse(run.stdout) as { path: string };
  return { redis, to, path, run };
}

test('a backup through the CLI checks out, never records the password, and restores an RDB-only server key by key', async () => {
  const { redis, path, run } = await serverWithBackup({ appendonly: 'no', save: '900 1' });
  await using _ = redis;
  const a = await redis.withClient(readDataset);
  assert.doesNotMatch(run.stdout + run.stderr + (await readFile(join(path, 'manifest.json'), 'utf8')), new RegExp(PASSWORD));
  assert.deepEqual((await readdir(path)).sort(), ['dump.rdb', 'manifest.json']);
  assert.equal((await runCli(['check', path])).exitCode, 0);

  await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
  await redis.stop();
  const restored = await runCli(['restore', path, '--data-dir', redis.dir, '--json']);
  assert.equal(restored.exitCode, 0, restored.stderr);
  const result = JSON.parse(restored.stdout) as { installed: string[]; movedAside: string };
  assert.deepEqual(result.installed, ['dump.rdb']);
  await redis.start();
  assert.deepEqual(diffDatasets(a, await redis.withClient(readDataset)), []);
  assert.deepEqual(await readdir(result.movedAside), ['dump.rdb'], 'the previous dump.rdb was moved aside, not deleted');
});

for (const damage of ['truncated', 'byte-flipped'] as const) {
  test(`check catches a ${damage} RDB and restore refuses it, leaving the data dir byte-identical`, async () => {
    const { redis, path } = await serverWithBackup({ appendonly: 'yes' });
    await using _ = redis;
    await redis.stop();
    const rdb = join(path, 'dump.rdb');
    if (damage === 'truncated') {
      await truncate(rdb, (await readFile(rdb)).length - 100);
    } else {
      const bytes = await readFile(rdb);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0x5a;
      await writeFile(rdb, bytes);
    }
    const check = await runCli(['check', path]);
    assert.equal(check.exitCode, 7);
    assert.match(check.stderr, /not a good backup: dump\.rdb (size|sha256)/);

    // The bare file, without the manifest's checksums, is caught by redis-check-rdb itself.
    const bare = join(redis.root, 'bare.rdb');
    await cp(rdb, bare);
    const bareCheck = await runCli(['check', bare]);
    assert.equal(bareCheck.exitCode, 7);
    // A flipped byte is caught by the CRC at the end, or earlier by a structure check, depending on where it lands.
    assert.match(
      bareCheck.stderr,
      damage === 'truncated' ? /Unexpected EOF|Short read/ : /CRC error|checksum|Wrong|integrity check failed|Unexpected EOF|Invalid/i,
    );

    const before = await treeDigest(redis.dir);
    const refused = await runCli(['restore', path, '--data-dir', redis.dir]);
    assertOneLineFailure(refused, 7, /Refusing to restore/);
    assert.deepEqual(await treeDigest(redis.dir), before);
  });
}

test('restore takes the verdict recorded for the very bytes it hashes; --recheck runs the checker again and refuses forged bytes', async () => {
  const { redis, path } = await serverWithBackup({ appendonly: 'no' });
  await using _ = redis;
  await redis.stop();
  const checker = (result: CheckResult) => result.items.find((item) => item.what === `${hostRedis.checkRdb} dump.rdb`);
  const trusted = await checkBackup(path, hostRedis, { trustRecorded: true });
  assert.equal(trusted.ok, true);
  assert.match(
    checker(trusted)?.detail ?? '',
    /RDB looks OK \(recorded when the backup was taken; the SHA-256 of these bytes matches the manifest\)/,
  );
  assert.equal(trusted.rdb, undefined, 'the checker did not run');
  // A verdict recorded by another product's checker is not taken: the checker runs.
  const manifestPath = join(path, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BackupManifest;
  await writeFile(manifestPath, JSON.stringify({ ...manifest, source: { ...manifest.source, engine: 'valkey' } }));
  const rechecked = await checkBackup(path, hostRedis, { trustRecorded: true });
  assert.equal(rechecked.ok, true);
  assert.equal(checker(rechecked)?.detail, 'RDB looks OK');

  // Damaged bytes under a manifest rewritten to match them: only the checker can tell.
  const rdb = join(path, 'dump.rdb');
  const bytes = await readFile(rdb);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] ?? 0) ^ 0x5a;
  await writeFile(rdb, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeFile(
    manifestPath,
    JSON.stringify({ ...manifest, files: manifest.files.map((file) => (file.role === 'rdb' ? { ...file, sha256 } : file)) }),
  );
  const before = await treeDigest(redis.dir);
  const refused = await runCli(['restore', path, '--data-dir', redis.dir, '--recheck']);
  assertOneLineFailure(refused, 7, /Refusing to restore .*redis-check-rdb dump\.rdb/);
  assert.deepEqual(await treeDigest(redis.dir), before);
});

test('restore refuses while a server runs on the data dir and changes nothing', async () => {
  const { redis, path } = await serverWithBackup({ appendonly: 'yes' });
  await using _ = redis;
  const before = await treeDigest(redis.dir);
  const refused = await runCli(['restore', path, '--data-dir', redis.dir]);
  assertOneLineFailure(refused, 8, /server is running on .*data dir/);
  assert.deepEqual(await treeDigest(redis.dir), before);
});

test('a folder that is not a backup is refused with a one-line reason', async () => {
  await using redis = await startRedis();
  const foreign = join(redis.root, 'foreign');
  await mkdir(foreign);
  assertOneLineFailure(
    await runCli(['restore', foreign, '--data-dir', redis.dir]),
    7,
    /not a redis-playbook backup: it has no manifest\.json/,
  );
  await writeFile(join(foreign, 'manifest.json'), '{"format":"something else"}');
  assertOneLineFailure(await runCli(['test-restore', foreign]), 7, /not a redis-playbook manifest/);
  assertOneLineFailure(await runCli(['check', join(redis.root, 'missing')]), 6, /does not exist/);
  assertOneLineFailure(await runCli(['restore', foreign]), 2, /--data-dir/);
});

test('--keep prunes only older complete backups and leaves other folders alone', async () => {
  const { redis, to } = await serverWithBackup({ appendonly: 'no' });
  await using _ = redis;
  await mkdir(join(to, 'notes from ops'));
  await mkdir(join(to, '.incomplete-2020-01-01T00-00-00Z-1-abc'));
  for (let i = 0; i < 2; i++) {
    const run = await runCli(['backup', '--url', redis.url, '--to', to, '--keep', '2'], { REDISCLI_AUTH: PASSWORD });
    assert.equal(run.exitCode, 0, run.stderr);
  }
  const listed = JSON.parse((await runCli(['backups', '--to', to, '--json'])).stdout) as { backups: { name: string; problem?: string }[] };
  const complete = listed.backups.filter((entry) => !entry.problem);
  assert.equal(complete.length, 2);
  const names = await readdir(to);
  assert.ok(names.includes('notes from ops'));
  assert.ok(names.includes('.incomplete-2020-01-01T00-00-00Z-1-abc'));
});

test('test-restore loads a backup into a scratch server and matches the manifest', async () => {
  const { redis, path } = await serverWithBackup({ appendonly: 'yes' });
  await using _ = redis;
  const run = await runCli(['test-restore', path, '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { ok: boolean; databases: { db: number; loaded: number; expected: number }[]; digest: string };
  assert.equal(result.ok, true);
  assert.deepEqual(
    result.databases.map((db) => [db.db, db.loaded, db.expected]),
    [
      [0, 101, 101],
      [1, 1, 1],
    ],
  );
  assert.match(result.digest, /^[0-9a-f]{40}$/);
});

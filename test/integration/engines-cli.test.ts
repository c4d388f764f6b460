import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { inspectJson, runCli } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { BackupManifestSchema } from '../../scripts/procedures/manifest.ts';

const ci = requireAll();
/** Skip reason when an engine is missing (a failure under PLAYBOOK_REQUIRE_ALL=1 instead). */
function needs(...ids: string[]): string | false {
  const reasons = ids.map(engineUnavailableReason).filter((reason): reason is string => reason !== undefined);
  return reasons.length > 0 && !ci ? reasons.join('; ') : false;
}

test(
  'restoring a Redis 8.0 backup into a Redis 7.0 data dir is refused naming both RDB versions; the data dir is byte-identical after',
  { skip: needs('redis-7.0', 'redis-8.0') },
  async () => {
    for (const id of ['redis-7.0', 'redis-8.0'])
      assert.equal(engineUnavailableReason(id), undefined, `${id} is required under PLAYBOOK_REQUIRE_ALL=1`);
    const redis8 = engineById('redis-8.0');
    const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
    try {
      const backups = join(work, 'backups');
      {
        await using source = await startRedis({ config: { appendonly: 'no', save: '""' } }, redis8);
        await source.withClient((client) => client.mset({ a: '1', b: '2', c: '3' }));
        // The host's redis-server cannot check an RDB 12: backup says so instead of calling it damaged.
        // (Without --server, backup finds the server's own programs from INFO executable: see engines-round-trip.)
        const unchecked = await runCli(['backup', '--url', source.url, '--to', backups, '--server', 'redis-server']);
        assert.equal(unchecked.exitCode, 7, unchecked.stderr);
        assert.ok(
          unchecked.stderr.includes('the snapshot has RDB format 12 (Redis 8.0), redis-server 7.0.15 loads up to 10'),
          unchecked.stderr,
        );
        assert.deepEqual(
          (await readdir(backups)).filter((name) => !name.startsWith('.')),
          [],
          'no backup folder from the refused run',
        );
        const made = await runCli(['backup', '--url', source.url, '--to', backups, '--server', redis8.server]);
        assert.equal(made.exitCode, 0, made.stderr);
      }
      const [folder] = (await readdir(backups)).filter((name) => !name.startsWith('.'));
      assert.ok(folder, 'a backup folder');
      const backup = join(backups, folder);

      // The target: a stopped Redis 7.0 with its own data (RDB and AOF).
      await using target = await startRedis({ config: { appendonly: 'yes', save: '""' } });
      await target.withClient((client) => client.mset({ old: 'data', kept: 'yes' }));
      await target.stop({ save: true });
      const before = await treeDigest(target.dir);
      assert.ok(before.has('dump.rdb') && before.has('appendonlydir/'), 'the target dir holds an RDB and an AOF dir');

      const expected = 'backup has RDB format 12 (Redis 8.0), redis-server 7.0.15 loads up to 10';
      const checked = await runCli(['check', backup]);
      assert.equal(checked.exitCode, 7, checked.stderr);
      assert.ok(checked.stderr.includes(expected), checked.stderr);
      assert.equal(checked.stderr.trim().split('\n').length, 1, `one line: ${checked.stderr}`);

      const restored = await runCli(['restore', backup, '--data-dir', target.dir]);
      assert.equal(restored.exitCode, 7, restored.stderr);
      assert.ok(restored.stderr.includes(expected), restored.stderr);
      assert.equal(restored.stderr.trim().split('\n').length, 1, `one line: ${restored.stderr}`);
      assert.deepEqual(await treeDigest(target.dir), before, 'the data dir is byte-identical');

      // The same backup is good for a Redis 8.0 target.
      const good = await runCli(['check', backup, '--server', redis8.server]);
      assert.equal(good.exitCode, 0, good.stderr);
      assert.match(good.stdout, /RDB header: RDB format version 12/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
);

test('check refuses a --server that is not a server program, changing nothing', async () => {
  const run = await runCli(['check', '/nonexistent', '--server', '/nonexistent/redis-server']);
  assert.equal(run.exitCode, 2);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /--server "\/nonexistent\/redis-server": not found/);
  const wrong = await runCli(['check', '/nonexistent', '--server', 'redis-cli']);
  assert.equal(wrong.exitCode, 2);
  assert.match(wrong.stderr, /expected a server program named like redis-server/);
});

for (const [id, name, version, rdb, label] of [
  ['redis-8.0', 'redis', '8.0.2', 12, 'RDB format 12 (Redis 8.0)'],
  ['valkey-8.1', 'valkey', '8.1.1', 11, 'RDB format 11 (Valkey 8.1)'],
  ['redis-6.0', 'redis', '6.0.16', 9, 'RDB format 9 (Redis 6.0)'],
  ['redis-8.6', 'redis', '8.6.3', 13, 'RDB format 13 (Redis 8.6)'],
  ['valkey-9.1', 'valkey', '9.1.2', 80, 'RDB format 80 (Valkey 9.1)'],
] as const) {
  test(`inspect reports ${name} ${version} and the RDB format ${rdb} of its dump.rdb`, { skip: needs(id) }, async () => {
    assert.equal(engineUnavailableReason(id), undefined, `${id} is required under PLAYBOOK_REQUIRE_ALL=1`);
    await using redis = await startRedis({ config: { appendonly: 'no', save: '""' } }, engineById(id));
    await redis.withClient(async (client) => {
      await client.set('k', 'v');
      await client.save();
    });
    const report = await inspectJson(redis.url);
    assert.equal(report.server.name, name);
    assert.equal(report.server.version, version);
    assert.ok(report.files.readable);
    assert.equal(report.files.rdb?.rdbVersion, rdb);
    const text = await runCli(['inspect', '--url', redis.url]);
    assert.equal(text.exitCode, 0, text.stderr);
    assert.ok(text.stdout.includes(label), text.stdout);
  });
}

/** A bin dir as on a Valkey host: the usual programs, Valkey's valkey-* ones, and no redis-* at all. */
async function valkeyHostBin(dir: string, valkeyBin: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const source of [valkeyBin, '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    for (const name of await readdir(source).catch(() => [] as string[])) {
      if (name.startsWith('redis-') || (name.startsWith('valkey-') && source !== valkeyBin)) continue;
      await symlink(join(source, name), join(bin, name)).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
    }
  }
  return bin;
}

test(
  'on a Valkey host (valkey-* programs, no redis-*), backup and check use valkey-check-rdb without --server',
  { skip: needs('valkey-8.1') },
  async () => {
    assert.equal(engineUnavailableReason('valkey-8.1'), undefined, 'valkey-8.1 is required under PLAYBOOK_REQUIRE_ALL=1');
    const valkey = engineById('valkey-8.1');
    const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
    try {
      const PATH = await valkeyHostBin(work, valkey.binDir as string);
      await using server = await startRedis({ config: { appendonly: 'yes', save: '""' } }, valkey);
      await server.withClient((client) => client.mset({ a: '1', b: '2' }));
      const backups = join(work, 'backups');
      const made = await runCli(['backup', '--url', server.url, '--to', backups], { PATH });
      assert.equal(made.exitCode, 0, made.stderr);
      const [folder] = (await readdir(backups)).filter((name) => !name.startsWith('.'));
      assert.ok(folder, 'a backup folder');
      const manifest = BackupManifestSchema.parse(JSON.parse(await readFile(join(backups, folder, 'manifest.json'), 'utf8')));
      assert.equal(manifest.source.engine, 'valkey');
      assert.equal(manifest.source.rdbVersion, 11);
      assert.deepEqual([manifest.checks.rdb.ok, manifest.checks.aof?.ok], [true, true]);
      const checked = await runCli(['check', join(backups, folder)], { PATH });
      assert.equal(checked.exitCode, 0, checked.stdout + checked.stderr);
      assert.match(checked.stdout, /valkey-check-rdb/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
);

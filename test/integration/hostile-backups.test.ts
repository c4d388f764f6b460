import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import type { BackupManifest } from '../../scripts/procedures/manifest.ts';
import { writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';

/**
 * Each case takes a good backup of an AOF server, spoils a copy of it the way a hostile or foreign
 * backup would be, and checks that `check` and `restore` refuse it with one line and exit 7 before
 * anything moves: the stopped server's data dir stays byte-identical.
 */
const cases: { name: string; spoil: (backup: string, manifest: BackupManifest) => Promise<BackupManifest | undefined>; refusal: RegExp }[] =
  [
    {
      name: 'a manifest naming a file outside the backup (../)',
      spoil: async (_backup, manifest) => ({
        ...manifest,
        files: manifest.files.map((file, i) => (i === 0 ? { ...file, path: `../${file.path}` } : file)),
      }),
      refusal: /not a redis-playbook manifest: files\.0\.path: a relative path inside the backup/,
    },
    {
      name: 'a manifest naming an absolute path',
      spoil: async (_backup, manifest) => ({
        ...manifest,
        files: manifest.files.map((file, i) => (i === 0 ? { ...file, path: '/etc/passwd' } : file)),
      }),
      refusal: /files\.0\.path: a relative path inside the backup/,
    },
    {
      name: 'the snapshot a symbolic link to a file elsewhere (with the very same bytes)',
      spoil: async (backup) => {
        const elsewhere = join(backup, '..', 'elsewhere.rdb');
        await rename(join(backup, 'dump.rdb'), elsewhere);
        await symlink(elsewhere, join(backup, 'dump.rdb'));
      },
      refusal: /dump\.rdb: dump\.rdb is a symbolic link: a backup holds plain files only/,
    },
    {
      name: 'the AOF dir a symbolic link',
      spoil: async (backup) => {
        const elsewhere = join(backup, '..', 'elsewhere-aof');
        await rename(join(backup, 'appendonlydir'), elsewhere);
        await symlink(elsewhere, join(backup, 'appendonlydir'));
      },
      refusal: /appendonlydir is a symbolic link/,
    },
    {
      name: 'the snapshot a named pipe (reading it would block forever)',
      spoil: async (backup) => {
        await rm(join(backup, 'dump.rdb'));
        await execa('mkfifo', [join(backup, 'dump.rdb')]);
      },
      refusal: /dump\.rdb: dump\.rdb is not a plain file/,
    },
    {
      name: 'a multi-gigabyte snapshot where the manifest says kilobytes (never read, never copied)',
      spoil: async (backup) => {
        await truncate(join(backup, 'dump.rdb'), 3 * 1024 ** 3);
        return undefined;
      },
      refusal: /dump\.rdb size: 3221225472 bytes, the manifest says \d+ \(truncated or grown\)/,
    },
    {
      name: 'an AOF manifest naming a file outside its dir',
      spoil: async (backup, manifest) => {
        const aofManifest = manifest.files.find((file) => file.path.endsWith('.manifest'));
        assert.ok(aofManifest);
        const path = join(backup, aofManifest.path);
        const text = (await readFile(path, 'utf8')).replace(/file (\S+)\.base\.rdb/, 'file ../../../etc/$1.base.rdb');
        await writeFile(path, text);
        return { ...manifest, files: manifest.files.map((file) => (file === aofManifest ? { ...file, ...digestOf(text) } : file)) };
      },
      refusal:
        /appendonlydir\/appendonly\.aof\.manifest: AOF manifest line 1 names \.\.\/\.\.\/\.\.\/etc\/appendonly\.aof\.1\.base\.rdb: a file name, not a path/,
    },
    {
      name: 'a manifest from another tool',
      spoil: async (_backup, manifest) => ({ ...manifest, format: 'other-backup-tool/3' }) as unknown as BackupManifest,
      refusal: /manifest\.json is not a redis-playbook manifest: its format is "other-backup-tool\/3"/,
    },
    {
      name: 'a manifest from a future version',
      spoil: async (_backup, manifest) => ({ ...manifest, format: 'redis-playbook-backup/3' }) as unknown as BackupManifest,
      refusal:
        /was written by a newer redis-playbook \(format redis-playbook-backup\/3\); this one reads up to redis-playbook-backup\/2: update it/,
    },
    {
      name: 'a manifest that is a symbolic link',
      spoil: async (backup) => {
        await rename(join(backup, 'manifest.json'), join(backup, '..', 'manifest-elsewhere.json'));
        await symlink(join(backup, '..', 'manifest-elsewhere.json'), join(backup, 'manifest.json'));
      },
      refusal: /manifest\.json is not a plain file \(a symbolic link\): a backup holds plain files only/,
    },
    {
      name: 'a manifest of gigabytes',
      spoil: async (backup) => {
        await truncate(join(backup, 'manifest.json'), 2 * 1024 ** 3);
        return undefined;
      },
      refusal: /manifest\.json is 2147483648 bytes: not a redis-playbook manifest/,
    },
  ];

function digestOf(text: string) {
  return { size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
}

test('hostile and foreign backups are refused by check and restore before anything moves', async (t) => {
  await using redis = await startRedis({ config: { appendonly: 'yes' } });
  await redis.withClient((client) => writeMixedDataset(client, 'A', 10));
  const made = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  const good = (JSON.parse(made.stdout) as { path: string }).path;
  const server = await answeringServer(redis);
  await redis.stop();
  const before = await treeDigest(redis.dir);

  for (const [index, { name, spoil, refusal }] of cases.entries()) {
    await t.test(name, async (sub) => {
      const fault = await faultCase(sub, import.meta.url, `hostile.${index}`, 'Hostile backups', name);
      const backup = join(redis.root, `spoiled-${index}`, 'backup');
      await mkdir(join(backup, '..'));
      await cp(good, backup, { recursive: true });
      const manifest = JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')) as BackupManifest;
      const changed = await spoil(backup, manifest);
      if (changed) await writeFile(join(backup, 'manifest.json'), JSON.stringify(changed));

      // check lists what it found on stdout; the verdict is one line on stderr.
      const checked = await runCli(['check', backup]);
      assertOneLineFailure({ ...checked, stdout: '' }, 7, refusal);
      const restored = await runCli(['restore', backup, '--data-dir', redis.dir]);
      assertOneLineFailure(restored, 7, refusal);
      assert.deepEqual(await treeDigest(redis.dir), before, 'the data dir is byte-identical');
      await rm(join(backup, '..'), { recursive: true, force: true });
      const said = restored.stderr
        .trim()
        .replace(/^redis-playbook: /, '')
        .replaceAll(backup, 'BACKUP')
        .replaceAll(redis.dir, 'DATA_DIR');
      await fault.passed(`check and restore refused it before anything moved: "${said}"`, 7, server);
    });
  }
});

import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.ts';
import type { ComposeRedis } from '../../harness/docker/compose.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { ensureImage } from '../../harness/docker/image.ts';
import { engineById } from '../../harness/engine.ts';
import { waitFor } from '../../harness/wait.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import { FORMAT_REFUSED, readRdbVersion } from '../../redis/rdb.ts';
import { identityFromInfo, identityMismatch, identityName } from '../../data/identity.ts';
import { defineSnippet, type ValuesFn } from '../schema.ts';
import { assertContainerHolds, filesInContainer } from '../scenarios/docker.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { shScript } from './rollback.docker.ts';
import { waitUntil } from '../shell-wait.ts';

/**
 * The Compose upgrade and its undo (operations/moving-between-versions): the service starts on the
 * Redis 7.0 image (`upgradeFrom`), and each block is filed under the image it moves to, Redis 8.6 or
 * Valkey 9.1. The checks: every key, type, value and expiry is there after the upgrade, and after the
 * undo exactly the pre-upgrade snapshot, writes made after the upgrade gone.
 */
const page = 'operations/moving-between-versions';
const FROM = 'redis-7.0';

/** Every page command asks the server through `docker exec`, as a reader's shell does. */
const waitAndShow = [
  waitUntil('docker exec {{container}} redis-cli PING 2>/dev/null | grep -q PONG'),
  "docker exec {{container}} redis-cli INFO server | tr -d '\\r' | grep -E '^(redis|valkey)_version:'",
  'docker exec {{container}} redis-cli INFO keyspace )',
];

const upgrade = [
  '( set -eo pipefail',
  '# 1. A checked snapshot first, in a folder named after the version that wrote it',
  "old=$(docker exec {{container}} redis-cli INFO server | tr -d '\\r' | sed -n 's/^redis_version://p')",
  'redis-playbook backup --container {{container}} --to {{backupDir}}/before-upgrade-"$old"',
  '# 2. The new image in the compose file (grep fails if the line was not found)',
  "sed -i 's#image: {{image}}$#image: {{newImage}}#' docker-compose.yml",
  "grep -n 'image: {{newImage}}$' docker-compose.yml",
  '# 3. up -d recreates the container on the same volume; the new version loads your files',
  'docker compose up -d {{service}}',
  ...waitAndShow,
].join('\n');

/** The undo's work in the volume, for `sh -ec '…'` in a throwaway container of the old image. */
const undoInVolume = [
  'cd /data',
  '# What the old version says of the files the new one wrote',
  'for f in "$db" "$aofdir"/*.base.rdb; do',
  '  echo "$f: $(redis-check-rdb "$f" | grep -E "looks OK|format version|signature" | head -n 1)"',
  'done',
  '# Those files aside (never deleted); the snapshot as dump.rdb and as the base of a one-file AOF',
  'aside="after-upgrade-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'mkdir "$aside"',
  'for f in "$db" "$aofdir"; do if [ -e "$f" ]; then mv "$f" "$aside/"; fi; done',
  'cp /backup/dump.rdb "$db"',
  'mkdir "$aofdir"',
  'cp "$db" "$aofdir/$aof.1.base.rdb"',
  'echo "file $aof.1.base.rdb seq 1 type b" > "$aofdir/$aof.manifest"',
  'chown -R "$(stat -c %u:%g .)" "$db" "$aofdir" "$aside"',
  'echo "files of the new version: /data/$aside"',
];

const undo = [
  '( set -eo pipefail',
  '# 1. The newest snapshot of the version you go back to (none: it stops here, before any change)',
  "old=$(docker run --rm --network none {{image}} redis-server --version | sed -n 's/.*v=\\([0-9.]*\\) .*/\\1/p')",
  'snap=$(ls -d {{backupDir}}/before-upgrade-"$old"/*/ | tail -n 1)',
  'echo "back to $old with $snap"',
  '# 2. Stop; a throwaway container of the old image swaps the files in the volume',
  'docker compose stop {{service}}',
  'docker run --rm --network none -e db={{dbfilename}} -e aofdir={{appenddirname}} -e aof={{appendfilename}} \\',
  `  -v {{volume}}:/data -v "$snap":/backup:ro {{image}} sh -ec '`,
  `${shScript(undoInVolume)}'`,
  '# 3. The old image again, then up',
  "sed -i 's#image: {{newImage}}$#image: {{image}}#' docker-compose.yml",
  "grep -n 'image: {{image}}$' docker-compose.yml",
  'docker compose up -d {{service}}',
  ...waitAndShow,
].join('\n');

/** `backupDir` in scratch: where the page's commands keep the pre-upgrade snapshot. */
const backupValues: ValuesFn<unknown, { backupDir: string }> = ({ scratch }) => ({ backupDir: join(scratch, 'backups') });

/** The CLI as an operator runs it (bin/redis-playbook), for a setup that takes the snapshot the way the page does. */
const cli = fileURLToPath(new URL('../../../bin/redis-playbook', import.meta.url));

/** `7.0.15`: the version the server reports (Valkey's own, not its compatibility redis_version). */
async function versionOf(server: RedisContainer): Promise<string> {
  const identity = identityFromInfo((await server.info('server')).server ?? {});
  assert.ok(identity, 'INFO server names a version');
  return identity.version;
}

/** The server answering now is `engineId`'s: product and version, from INFO server. */
async function assertRuns(server: RedisContainer, engineId: string, what: string): Promise<string> {
  const identity = identityFromInfo((await server.info('server')).server ?? {});
  assert.ok(identity, 'INFO server names a version');
  assert.equal(identityMismatch(engineById(engineId), identity), undefined, what);
  return identityName(identity);
}

const dataset = (json: string): Dataset => new Map(JSON.parse(json) as [string, Dataset extends Map<string, infer V> ? V : never][]);

/**
 * The undo's starting point, made the way the upgrade block does it: dataset A on Redis 7.0, its
 * snapshot by `redis-playbook backup` under before-upgrade-<version>, the compose file moved to the
 * image under test, `up -d`; then writes on the new version (dataset B) and an AOF rewrite, so the
 * volume holds the new version's formats as it does once the new server has run a while.
 */
async function upgradedThenChanged(server: RedisContainer, scratch: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- the flavor declares compose: true, so its server is the project
  const project = server as ComposeRedis;
  await server.withClient((client) => writeMixedDataset(client, 'A', 30));
  await writeFile(join(scratch, 'before-upgrade.json'), JSON.stringify([...(await server.withClient(readDataset))]));
  await exec(cli, ['backup', '--container', server.name, '--to', join(scratch, 'backups', `before-upgrade-${await versionOf(server)}`)], {
    env: server.env,
  });
  const target = (await ensureImage()).tag;
  const file = await readFile(project.composeFile, 'utf8');
  assert.ok(file.includes(`image: ${server.image}\n`), 'the compose file names the old image');
  await writeFile(project.composeFile, file.replace(`image: ${server.image}\n`, `image: ${target}\n`));
  const up = await project.compose(['up', '-d']);
  assert.equal(up.exitCode, 0, `compose up -d: ${up.stderr}`);
  await server.start();
  await server.withClient(async (client) => {
    await changeMixedDataset(client, 'A', 'B');
    await client.bgrewriteaof();
  });
  await waitFor(
    async () => {
      const persistence = (await server.info('persistence')).persistence ?? {};
      return (
        persistence.aof_rewrite_in_progress === '0' &&
        persistence.aof_rewrite_scheduled === '0' &&
        persistence.aof_last_bgrewrite_status === 'ok'
      );
    },
    { what: 'the new version to rewrite its AOF', timeoutMs: 30_000 },
  );
}

export const upgradeComposeSnippets = [
  defineSnippet({
    id: 'versions-upgrade-compose',
    title: 'Upgrade a Compose service to a new image',
    page,
    crossEngine: true,
    engines: ['redis-8.6', 'valkey-9.1'],
    flavors: {
      docker: {
        command: upgrade,
        compose: true,
        upgradeFrom: FROM,
        server: { config: seedServerConfig },
        setup: (server) => server.withClient((client) => writeMixedDataset(client, 'A', 30)),
        values: backupValues,
        timeoutMs: 150_000,
        async verify(ctx) {
          const server = ctx.server;
          const expected = await server.withClient(readDataset);
          const oldName = await assertRuns(server, FROM, 'the service runs the old image first');
          const { exitCode, stdout } = await ctx.run({ timeoutMs: 120_000 });
          assert.equal(exitCode, 0);
          const newName = await assertRuns(server, ctx.engine.id, 'the service runs the new image');
          assert.match(stdout, new RegExp(`^${ctx.engine.product}_version:${ctx.engine.version ?? ''}`, 'm'));
          assert.match(await readFile(server.composeFile, 'utf8'), new RegExp(`^\\s*image: ${ctx.values.newImage}$`, 'm'));
          await assertContainerHolds(server, expected, 'every key of the old version is there, with its type, value and expiry');
          // The snapshot: one folder under before-upgrade-<old version>, its dump.rdb in the old format.
          const folder = join(ctx.values.backupDir, `before-upgrade-${oldName.split(' ')[1]}`);
          const backups = (await readdir(folder)).filter((name) => !name.startsWith('.'));
          assert.equal(backups.length, 1, 'one backup before the upgrade');
          assert.equal(
            await readRdbVersion(join(folder, backups[0] as string, 'dump.rdb')),
            10,
            'the snapshot is in the format of Redis 7.0',
          );
          ctx.measure('keys', expected.size);
          ctx.note(
            `(${oldName} to ${newName}: all ${expected.size} keys of databases 0 and 1 compared by type, value and expiry: equal; the snapshot is RDB 10)`,
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'versions-undo-upgrade-compose',
    title: 'Undo the upgrade of a Compose service with the snapshot taken before it',
    page,
    crossEngine: true,
    engines: ['redis-8.6', 'valkey-9.1'],
    flavors: {
      docker: {
        command: undo,
        compose: true,
        upgradeFrom: FROM,
        server: { config: seedServerConfig },
        setup: upgradedThenChanged,
        values: backupValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const server = ctx.server;
          const expected = dataset(await readFile(join(ctx.scratch, 'before-upgrade.json'), 'utf8'));
          const newName = await assertRuns(server, ctx.engine.id, 'the service runs the new image before the undo');
          // What the writes made after the upgrade changed: the keys that will not come back as they are now.
          const changed = diffDatasets(expected, await server.withClient(readDataset)).length;
          assert.ok(
            changed > 0 && (await server.withClient((client) => client.exists('added:B'))) === 1,
            'writes were made after the upgrade',
          );
          const { exitCode, stdout } = await ctx.run({ timeoutMs: 150_000 });
          assert.equal(exitCode, 0);
          // The old version's checker refuses what the new one wrote: dump.rdb and the AOF base.
          const refusals = stdout.split('\n').filter((line) => /^(dump\.rdb|appendonlydir\/\S+\.base\.rdb): /.test(line));
          assert.equal(refusals.length, 2, stdout);
          for (const line of refusals) assert.match(line, FORMAT_REFUSED);
          const oldName = await assertRuns(server, FROM, 'the service runs the old image again');
          await assertContainerHolds(server, expected, 'the server holds exactly the snapshot taken before the upgrade');
          assert.equal(await server.withClient((client) => client.exists('added:B')), 0, 'the write made after the upgrade is gone');
          const aside = (await filesInContainer(server, server.dir)).filter((name) => name.startsWith('after-upgrade-'));
          assert.equal(aside.length, 1, 'one after-upgrade-* folder');
          assert.deepEqual(
            await filesInContainer(server, `${server.dir}/${aside[0]}`),
            ['appendonlydir', 'dump.rdb'],
            "the new version's files are kept aside",
          );
          await server.stop();
          await server.start();
          await assertContainerHolds(server, expected, 'the snapshot is still there after another restart (the AOF holds it)');
          ctx.measure('keys', expected.size);
          ctx.measure('changedAfterUpgrade', changed);
          ctx.note(
            `(${newName} back to ${oldName}: all ${expected.size} keys of the snapshot compared by type, value and expiry after the undo and after another restart: equal; the ${changed} keys changed on ${newName} (updated, deleted or added) are as they were before the upgrade)`,
          );
        },
      },
    },
  }),
];

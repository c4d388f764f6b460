import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../exec.ts';
import { fileURLToPath } from 'node:url';
import { startRedis, type DisposableRedis } from '../../harness/redis-server.ts';
import { backup } from '../../procedures/backup.ts';
import { checkBackup } from '../../procedures/check.ts';
import { listBackups } from '../../procedures/backups.ts';
import { populate, writeMixedDataset } from '../../redis/dataset.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { engineVariant, singleFileAofVariant, replaced } from '../variants.ts';
import { defineSnippet, type VerifyContext } from '../schema.ts';
import { backupValues, scratchBackups } from '../scenarios/rollback.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { startContainerWithRdb } from '../scenarios/docker.ts';
import { waitWhile } from '../shell-wait.ts';

const page = 'recovery/backups';
const checkout = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

/** Writes a dataset and takes `count` backups of it into scratch/backups. */
function withBackups(count: number) {
  return async (server: DisposableRedis, scratch: string) => {
    await server.withClient(async (client) => {
      await writeMixedDataset(client, 'A', 10);
      for (let i = 0; i < count; i++) {
        await backup({ client, source: { host: server.host, port: server.port }, engine: server.engine, to: scratchBackups(scratch) });
      }
    });
  };
}

/**
 * The proven BGSAVE wait in plain shell, through `cli` (a redis-cli with -e): it waits for a save
 * already running, lets the clock pass LASTSAVE, asks for a save and waits until one completed after
 * it, stopping on a failed one (`hint`: where its reason is logged).
 */
const savedNow = (cli: string, hint: string) => [
  '# -e: an error reply (NOAUTH, MISCONF…) stops the script; without it redis-cli exits 0 anyway',
  `cli="${cli}"`,
  'field() { $cli INFO persistence | tr -d \'\\r\' | sed -n "s/^$1://p"; }',
  '# 1. A save already running started before you asked: its file would be stale. Wait for it (an hour at most).',
  waitWhile('[ "$(field rdb_bgsave_in_progress)" = 1 ]', { seconds: 3600, interval: 1 }),
  '# 2. LASTSAVE changes when a save completes, with 1-second resolution: let the clock pass it',
  'before=$($cli LASTSAVE); saves=$(field rdb_saves)',
  waitWhile('[ "$(date +%s)" -le "$before" ]', { seconds: 5 }),
  '# 3. SCHEDULE: if an AOF rewrite runs, the save starts after it instead of failing',
  '$cli BGSAVE SCHEDULE',
  '# 4. Wait for a save that completed after you asked (an hour at most); stop on a failed one',
  'for try in $(seq 3600); do',
  '  [ "$($cli LASTSAVE)" -gt "$before" ] && [ "$(field rdb_bgsave_in_progress)" = 0 ] && break',
  '  if [ "$(field rdb_saves)" -gt "$saves" ] && [ "$(field rdb_bgsave_in_progress)" = 0 ] && [ "$(field rdb_last_bgsave_status)" = err ]; then',
  `    echo "BGSAVE failed: see ${hint}" >&2; exit 1`,
  '  fi',
  '  sleep 1',
  'done',
  `[ "$($cli LASTSAVE)" -gt "$before" ] || { echo "No save completed within an hour: see ${hint}" >&2; exit 1; }`,
];

/** The proven BGSAVE wait and a checked copy, in plain shell. */
const manualBackup = [
  '( set -eo pipefail',
  ...savedNow('redis-cli -e -h {{host}} -p {{port}}', 'the server log'),
  '# 5. Copy under a temporary name, check the copy, record its checksum, then give it its final name',
  'dest={{backupDir}}/$(date -u +%Y-%m-%dT%H-%M-%SZ)',
  'mkdir -p "$dest.partial"',
  '# The snapshot as the server names it (CONFIG GET dir, dbfilename), saved as dump.rdb in the backup',
  'cp "$($cli CONFIG GET dir | tail -n 1)/$($cli CONFIG GET dbfilename | tail -n 1)" "$dest.partial/dump.rdb"',
  'redis-check-rdb "$dest.partial/dump.rdb" | grep -F \'RDB looks OK\'',
  '(cd "$dest.partial" && sha256sum dump.rdb > SHA256SUMS)',
  'mv "$dest.partial" "$dest"',
  'echo "backup: $dest" )',
].join('\n');

const MANUAL_NO_E_WHY =
  'its redis-cli has no -e and INFO has no rdb_saves: replies that matter go through grep, and a save failed when nothing runs and the last status is err.';

/** The manual backup for a redis-cli without `-e` and an INFO without `rdb_saves` (Redis 6.0). */
const manualBackupNoE = (
  [
    [
      '# -e: an error reply (NOAUTH, MISCONF…) stops the script; without it redis-cli exits 0 anyway',
      '# No -e in this redis-cli: an error reply (NOAUTH, MISCONF…) exits 0, so the replies that matter go through grep',
    ],
    ['cli="redis-cli -e -h', 'cli="redis-cli -h'],
    ['before=$($cli LASTSAVE); saves=$(field rdb_saves)', 'before=$($cli LASTSAVE)'],
    ['$cli BGSAVE SCHEDULE', "$cli BGSAVE SCHEDULE | grep '^Background saving'"],
    [
      '# 4. Wait for a save that completed after you asked (an hour at most); stop on a failed one',
      '# 4. Wait for a save that completed after you asked (an hour at most); stop when none runs (nor an AOF rewrite it waits for) and the last failed',
    ],
    [
      '[ "$(field rdb_saves)" -gt "$saves" ] && [ "$(field rdb_bgsave_in_progress)" = 0 ]',
      '[ "$(field rdb_bgsave_in_progress)" = 0 ] && [ "$(field aof_rewrite_in_progress)" = 0 ]',
    ],
  ] as const
).reduce((text, [from, to]) => replaced(text, from, to), manualBackup);

/**
 * The same backup for Docker Compose: the wait through `docker exec`, then the seed's "copy the volume
 * with a throwaway container", corrected: only dump.rdb (a finished snapshot, replaced by rename, so
 * safe to copy while Redis runs), the volume mounted read-only, the copy checked with the image's own
 * redis-check-rdb and checksummed before the folder gets its final name.
 */
const manualBackupDocker = [
  '( set -eo pipefail',
  ...savedNow('docker exec {{container}} redis-cli -e', 'docker logs {{container}}'),
  '# 5. A throwaway container copies dump.rdb out of the volume (read-only) under a temporary name,',
  "#    checks the copy with the image's redis-check-rdb and records its checksum; then the final name",
  'dest={{backupDir}}/$(date -u +%Y-%m-%dT%H-%M-%SZ)',
  'mkdir -p "$dest.partial"',
  'db=$($cli CONFIG GET dbfilename | tail -n 1)',
  'docker run --rm -e db="$db" -v {{volume}}:/data:ro -v "$dest.partial":/backup {{image}} sh -ec \'',
  '  cp "/data/$db" /backup/dump.rdb',
  '  redis-check-rdb /backup/dump.rdb | grep -F "RDB looks OK"',
  "  cd /backup && sha256sum dump.rdb > SHA256SUMS'",
  'mv "$dest.partial" "$dest"',
  'echo "backup: $dest" )',
].join('\n');

export const backupSnippets = [
  defineSnippet({
    id: 'backup-cli',
    title: 'Take a backup with the CLI',
    page,
    flavors: {
      host: {
        command: 'redis-playbook backup --url redis://{{host}}:{{port}} --to {{backupDir}} --keep 14',
        variants: [singleFileAofVariant('the backup holds its one appendonly.aof instead of appendonlydir/.')],
        server: { config: { appendonly: 'yes', save: seedSaveRules }, password: 'a password the page never shows' },
        setup: withBackups(0),
        values: ({ scratch }) => ({ backupDir: scratchBackups(scratch) }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const [entry] = await listBackups(ctx.values.backupDir);
          assert.ok(entry?.manifest, 'one complete backup');
          assert.match(stdout, new RegExp(`Backup complete: ${entry.path}`));
          const check = await checkBackup(entry.path, hostEngine(ctx.server));
          assert.equal(check.ok, true);
          assert.deepEqual(entry.manifest.keyspace, { '0': { keys: 51, expires: 1 }, '1': { keys: 1, expires: 0 } });
          const aof =
            engineTraits(ctx.engine.id).aofLayout === 'dir'
              ? (path: string) => path.startsWith('appendonlydir/')
              : (path: string) => path === 'appendonly.aof';
          assert.ok(
            entry.manifest.files.some((file) => aof(file.path)),
            'the AOF is in the backup',
          );
        },
      },
      docker: {
        // Through docker exec and docker cp: no access to the volume's directory on the host is needed.
        command: 'redis-playbook backup --container {{container}} --to {{backupDir}} --keep 14',
        server: { config: seedServerConfig, password: 'a password the page never shows' },
        async setup(server) {
          await server.withClient((client) => writeMixedDataset(client, 'A', 10));
        },
        values: ({ scratch }) => ({ backupDir: scratchBackups(scratch) }),
        timeoutMs: 120_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const [entry, ...others] = await listBackups(ctx.values.backupDir);
          assert.ok(entry?.manifest, 'one complete backup');
          assert.equal(others.length, 0);
          assert.match(stdout, new RegExp(`Backup complete: ${entry.path}`));
          assert.equal(entry.manifest.source.container, ctx.values.container, 'the manifest names the container');
          // Checked by the container's own engine (a Redis 8.0 backup is RDB 12).
          assert.equal((await checkBackup(entry.path, ctx.server.engine)).ok, true);
          assert.deepEqual(entry.manifest.keyspace, { '0': { keys: 51, expires: 1 }, '1': { keys: 1, expires: 0 } });
          assert.ok(
            entry.manifest.files.some((file) => file.path.startsWith('appendonlydir/')),
            'the AOF set is in the backup',
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'backup-list',
    title: 'List the backups',
    page,
    flavors: {
      host: {
        command: 'redis-playbook backups --to {{backupDir}}',
        server: { config: { appendonly: 'no' } },
        setup: withBackups(2),
        values: ({ scratch }) => ({ backupDir: scratchBackups(scratch) }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const rows = stdout.trim().split('\n');
          assert.match(rows[0] ?? '', /^BACKUP\s+SNAPSHOT \(UTC\)\s+KEYS\s+BYTES\s+AOF\s+CHECKED$/);
          assert.equal(rows.length, 3);
          for (const row of rows.slice(1)) assert.match(row, /\s52\s+\d+\s+no\s+ok$/);
        },
      },
    },
  }),
  defineSnippet({
    id: 'backup-check',
    title: 'Check a backup',
    page,
    flavors: {
      host: {
        command: 'redis-playbook check {{backup}}',
        variants: [singleFileAofVariant('it checks the one appendonly.aof the backup holds (redis-check-aof appendonly.aof).')],
        server: { config: { appendonly: 'yes' } },
        setup: withBackups(1),
        values: backupValues,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /ok {4}redis-check-rdb dump\.rdb: RDB looks OK/);
          const aof = engineTraits(ctx.engine.id).aofLayout === 'dir' ? 'appendonlydir' : 'appendonly\\.aof';
          assert.match(stdout, new RegExp(`ok {4}redis-check-aof ${aof}: AOF is valid`));
          assert.match(stdout, / is good$/m);
        },
      },
    },
  }),
  defineSnippet({
    id: 'backup-manual',
    title: 'Take a backup by hand, with a wait that ends',
    page,
    flavors: {
      host: {
        command: manualBackup,
        variants: [engineVariant((traits) => !traits.cliErrorExit && !traits.rdbSaves, MANUAL_NO_E_WHY, manualBackupNoE)],
        server: { config: { appendonly: 'no', save: '""', rdbcompression: 'no' } },
        // 400,000 keys (85 MB) saved twice, copied and checked: over a minute on a busy 2-core machine.
        timeoutMs: 180_000,
        async setup(server) {
          // A save is already running when the procedure starts, and a write lands just before it.
          await server.withClient(async (client) => {
            await populate(client, 400_000, 'page', 200);
            await client.bgsave();
            await client.set('written-just-before', 'yes');
          });
        },
        values: ({ server, scratch }) => ({ backupDir: scratchBackups(scratch), dataDir: server.dir }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run({ timeoutMs: 120_000 });
          assert.equal(exitCode, 0);
          assert.match(stdout, /RDB looks OK/);
          const [name] = await readdir(ctx.values.backupDir);
          assert.match(name ?? '', /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/, 'only the final folder is left, no .partial');
          const folder = join(ctx.values.backupDir, name as string);
          const sums = await exec('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder, reject: false });
          assert.equal(sums.exitCode, 0, sums.stdout);
          // Loaded by the engine that wrote it (an older one may not read its RDB format).
          await using loaded = await startRedis(
            { config: { appendonly: 'no', save: '""' }, initialFiles: { 'dump.rdb': join(folder, 'dump.rdb') } },
            ctx.server.engine,
          );
          assert.equal((await loaded.cli(['GET', 'written-just-before'])).stdout.trim(), 'yes', 'the snapshot started after the write');
          assert.equal((await loaded.cli(['DBSIZE'])).stdout.trim(), '400001');
          assert.ok((await readFile(join(folder, 'SHA256SUMS'), 'utf8')).endsWith('  dump.rdb\n'));
        },
      },
      docker: {
        command: manualBackupDocker,
        // rdb-key-save-delay (µs per key) makes each snapshot of these 10,000 keys take about two seconds,
        // as a large dataset's would, without writing one: the procedure must wait for the running one.
        server: { config: { ...seedServerConfig, 'enable-debug-command': 'local', 'rdb-key-save-delay': 10 } },
        async setup(server) {
          // A save is already running when the procedure starts, and a write lands just before it.
          await server.withClient(async (client) => {
            await client.call('DEBUG', 'POPULATE', 10_000, 'page', 200);
            await client.bgsave();
            await client.set('written-just-before', 'yes');
          });
        },
        values: ({ scratch }) => ({ backupDir: scratchBackups(scratch) }),
        timeoutMs: 180_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run({ timeoutMs: 150_000 });
          assert.equal(exitCode, 0);
          assert.match(stdout, /RDB looks OK/);
          const [name, ...others] = await readdir(ctx.values.backupDir);
          assert.equal(others.length, 0, 'one folder');
          assert.match(name ?? '', /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/, 'only the final folder is left, no .partial');
          const folder = join(ctx.values.backupDir, name as string);
          assert.deepEqual((await readdir(folder)).sort(), ['SHA256SUMS', 'dump.rdb'], 'only dump.rdb and its checksum');
          const sums = await exec('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder, reject: false });
          assert.equal(sums.exitCode, 0, sums.stdout);
          await using loaded = await startContainerWithRdb(join(folder, 'dump.rdb'), ctx.values.image);
          assert.equal((await loaded.cli(['GET', 'written-just-before'])).stdout.trim(), 'yes', 'the snapshot started after the write');
          assert.equal((await loaded.cli(['DBSIZE'])).stdout.trim(), '10001');
        },
      },
    },
  }),
  defineSnippet({
    id: 'backup-cron',
    title: 'Schedule a nightly backup',
    page,
    flavors: {
      host: {
        lang: 'cron',
        command:
          '0 3 * * * root {{checkout}}/bin/redis-playbook backup --url redis://{{host}}:{{port}} --to {{backupDir}} --keep 14 >> {{backupLog}} 2>&1',
        server: { config: { appendonly: 'yes' } },
        setup: withBackups(0),
        values: ({ scratch }) => ({ checkout, backupDir: scratchBackups(scratch), backupLog: join(scratch, 'backup.log') }),
        async verify(ctx) {
          // On a machine where this engine is the installed one, its programs are in cron's /usr/bin.
          await runCronLine(ctx, { ...ctx.server.env, PATH: await ctx.enginePath('/usr/bin:/bin') });
          assert.equal((await listBackups(ctx.values.backupDir)).filter((entry) => entry.manifest).length, 1);
        },
      },
      docker: {
        lang: 'cron',
        command:
          '0 3 * * * root {{checkout}}/bin/redis-playbook backup --container {{container}} --to {{backupDir}} --keep 14 >> {{backupLog}} 2>&1',
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient((client) => writeMixedDataset(client, 'A', 10));
        },
        values: ({ scratch }) => ({ checkout, backupDir: scratchBackups(scratch), backupLog: join(scratch, 'backup.log') }),
        timeoutMs: 120_000,
        async verify(ctx) {
          // Debian's docker is in /usr/bin, on cron's PATH.
          await runCronLine(ctx);
          const [entry, ...others] = await listBackups(ctx.values.backupDir);
          assert.ok(entry?.manifest, 'one complete backup');
          assert.equal(others.length, 0);
          assert.equal(entry.manifest.source.container, ctx.values.container, 'the manifest names the container');
          // Checked by the container's own engine (a Redis 8.0 backup is RDB 12).
          assert.equal((await checkBackup(entry.path, ctx.server.engine)).ok, true);
        },
      },
    },
  }),
  defineSnippet({
    id: 'backup-cron-tiers',
    title: 'Schedule hourly and nightly backups',
    page,
    flavors: {
      host: {
        lang: 'cron',
        command: cronTiers('--url redis://{{host}}:{{port}}'),
        server: { config: { appendonly: 'yes' } },
        setup: withBackups(0),
        values: ({ scratch }) => ({ checkout, backupDir: scratchBackups(scratch), backupLog: join(scratch, 'backup.log') }),
        async verify(ctx) {
          await runCronLine(ctx, { ...ctx.server.env, PATH: await ctx.enginePath('/usr/bin:/bin') });
          await assertOneBackupPerTier(ctx.values.backupDir);
        },
      },
      docker: {
        lang: 'cron',
        command: cronTiers('--container {{container}}'),
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient((client) => writeMixedDataset(client, 'A', 10));
        },
        values: ({ scratch }) => ({ checkout, backupDir: scratchBackups(scratch), backupLog: join(scratch, 'backup.log') }),
        timeoutMs: 180_000,
        async verify(ctx) {
          await runCronLine(ctx);
          await assertOneBackupPerTier(ctx.values.backupDir);
        },
      },
    },
  }),
];

/**
 * Checks each line of an /etc/cron.d file (comments aside: five time fields, an existing user, then
 * the command) and runs its command as cron would: /bin/sh, PATH=/usr/bin:/bin, no login profile.
 * The log they append to must say each backup completed; it is recorded as the block's output.
 */
async function runCronLine(ctx: VerifyContext<unknown, 'backupLog'>, env: Record<string, string> = {}): Promise<void> {
  const lines = ctx.command.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  assert.ok(lines.length > 0, 'a cron line');
  for (const line of lines) {
    const fields = line.split(' ');
    const [minute, hour, day, month, weekday, user] = fields;
    assert.match(minute ?? '', /^([0-5]?\d)$/);
    assert.match(hour ?? '', /^(1?\d|2[0-3]|\*)$/);
    for (const field of [day, month, weekday]) assert.equal(field, '*');
    assert.equal((await exec('id', ['-u', user ?? ''], { reject: false })).exitCode, 0, `user ${user} exists`);
    const result = await exec('/bin/sh', ['-c', fields.slice(6).join(' ')], {
      env: { PATH: '/usr/bin:/bin', HOME: '/root', SHELL: '/bin/sh', ...env },
      extendEnv: false,
      reject: false,
    });
    assert.equal(result.exitCode, 0, result.stderr);
  }
  const log = await readFile(ctx.values.backupLog, 'utf8');
  ctx.note(log.trim());
  assert.equal(log.match(/Backup complete: /g)?.length, lines.length, 'each line made a complete backup');
}

/** Two tiers of backups in one cron file: the last 24 hours, and the last 14 nights. */
function cronTiers(target: string): string {
  return [
    '# Every hour: the last 24 hours',
    `0 * * * * root {{checkout}}/bin/redis-playbook backup ${target} --to {{backupDir}}/hourly --keep 24 >> {{backupLog}} 2>&1`,
    '# Every night at 03:30: the last 14 days',
    `30 3 * * * root {{checkout}}/bin/redis-playbook backup ${target} --to {{backupDir}}/daily --keep 14 >> {{backupLog}} 2>&1`,
  ].join('\n');
}

/** Each tier's folder holds one complete backup after one run of each line. */
async function assertOneBackupPerTier(backupDir: string): Promise<void> {
  for (const tier of ['hourly', 'daily']) {
    const entries = await listBackups(join(backupDir, tier));
    assert.equal(entries.filter((entry) => entry.manifest).length, 1, `one complete backup in ${tier}`);
  }
}

function hostEngine(server: DisposableRedis | undefined) {
  assert.ok(server);
  return server.engine;
}

import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { readFile, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { parseAofManifest } from '../../redis/aof.ts';
import { configPairs, infoFields } from '../outputs.ts';
import { defineSnippet, dockerFlavor, hostFlavor, type HostFlavorInput, type PlaceholderValues, type ServerUnderTest, type VerifyContext } from '../schema.ts';
import { sameCheck } from '../same-check.ts';
import {
  assertStartFails,
  breakEleventhWrite,
  lastAofFile,
  changeByteOf,
  cutLastWrite,
  damagedAof,
  emptyDataDir,
  fixCopy,
  range,
  userNumbers,
  userValue,
  usersBackedUpThenMore,
  writeUsers,
} from '../scenarios/damaged-files.ts';
import { assertStartsWithBackup, backupValues, scratchBackups } from '../scenarios/rollback.ts';
import { engineProgramFile } from '../scenarios/engine-program.ts';
import { serviceUserValues, startAsServiceUser, type ServiceUserKey, type ServiceUserServer } from '../scenarios/service-user-server.ts';
import { assertContainerHoldsBackup, copyDumpOut, dockerBackupValues, type WithClient } from '../scenarios/docker.ts';
import {
  assertContainerStartFails,
  containerUserNumbers,
  damageInVolume,
  damagedAofInVolume,
  emptyVolume,
  fixCopyInVolume,
  onVolume,
  removeBaseInVolume,
  scratchContainerOnDump,
} from '../scenarios/damaged-files-docker.ts';
import { SERVICE_UID, ServiceUserContainer, startServiceUserContainer } from '../scenarios/service-user-container.ts';
import { docker } from '../../harness/docker/exec.ts';
import { uniqueNames, type DockerNames } from '../../harness/docker/options.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { offline } from './rollback.docker.ts';
import { checkEachAofFile, engineVariant, misreadBaseVariant, replaced, replacedEach, singleFileAofVariant } from '../variants.ts';

const page = 'operations/troubleshooting';

/** The log file of a harness server, as `{{logFile}}`. */
const logFileValue = ({ server }: { server: DisposableRedis | undefined }) => ({ logFile: server?.logFile ?? '' });

// ---------------------------------------------------------------------------------------------------
// A damaged dump.rdb (snapshot-only server)

/**
 * The seed's save rules one pair a line (`save 900 1`, `save 300 10`, …), as every engine reads them:
 * Redis 6.0.16 reads one line of several pairs (`save 900 1 300 10 60 10000`) as no save rules at
 * all, without a word (measured: CONFIG GET save is ""), so it would neither save at a stop nor MISCONF.
 */
const seedSaveLines = seedSaveRules.split(' ').flatMap((seconds, i, all) => (i % 2 === 0 ? [`${seconds} ${all[i + 1]}`] : []));

const rdbServer = { config: { appendonly: 'no', save: seedSaveLines } };

/** Cuts a file to half its size (dump.rdb: an interrupted copy, a full disk). */
async function cutInHalf(file: string): Promise<void> {
  await truncate(file, Math.floor((await stat(file)).size / 2));
}

/** One byte of a value in a dump.rdb changed: `name-150` becomes `Name-150`. */
const changeUserByte = (file: string) => changeByteOf(file, userValue(150));

/** Cuts dump.rdb to half its size. */
const cutDumpInHalf = (dir: string) => cutInHalf(join(dir, 'dump.rdb'));

/** One byte of a value in dump.rdb changed. */
const changeDumpByte = (dir: string) => changeUserByte(join(dir, 'dump.rdb'));

const SHORT_READ = /# Short read or OOM loading DB\. Unrecoverable error, aborting now\./;
const WRONG_CHECKSUM = /# Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\)\. Aborting now\./;

/** Users 1..200 backed up, 201..300 saved at the stop, then dump.rdb damaged and a start refused. */
function rdbRefused(damage: (dir: string) => Promise<void>, line: RegExp) {
  return async (server: DisposableRedis, scratch: string): Promise<void> => {
    await usersBackedUpThenMore(server, scratch);
    await damage(server.dir);
    await assertStartFails(server, line);
  };
}

/** The seed's Compose service with `appendonly no`: a snapshot-only server in a container. */
const rdbContainer = { config: { ...seedServerConfig, appendonly: 'no' } };

/**
 * The same in a container: users 1..200 saved and copied out as a backup (scratch/backups, as the
 * manual Docker backup lays it out), 201..300 saved at the stop, then dump.rdb damaged in the volume
 * and a start that exits.
 */
function rdbRefusedInVolume(damage: (file: string) => Promise<void>, line: RegExp) {
  return async (server: RedisContainer, scratch: string): Promise<void> => {
    await writeUsers(server, 1, 200);
    await server.withClient((client) => client.save());
    await copyDumpOut(server, scratchBackups(scratch));
    await writeUsers(server, 201, 300);
    await server.stop();
    await damageInVolume(server, 'dump.rdb', damage);
    await assertContainerStartFails(server, line);
  };
}

/** `docker logs` piped into `grep`: Redis in a container logs to stdout, which Docker keeps until the container is removed. */
const dockerLogGrep = (grep: string) => `docker logs {{container}} 2>&1 | ${grep}`;

/** Put the last good backup in place of a damaged dump.rdb, by hand. */
const restoreRdb = [
  '( set -e',
  'cd {{dataDir}}',
  '# 1. See it before changing anything: the file is damaged, the backup is good',
  "redis-check-rdb dump.rdb | grep -E 'Unexpected EOF|CRC error|RDB ERROR' | tail -n 1",
  "redis-check-rdb {{backup}}/dump.rdb | grep -F 'RDB looks OK'",
  '# 2. The damaged file goes aside, not away; the backup takes its place',
  'mv dump.rdb "dump.rdb.damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'cp {{backup}}/dump.rdb dump.rdb',
  '# 3. Let the server user own it (host installs run Redis as "redis")',
  'chown redis:redis dump.rdb',
  'ls dump.rdb* )',
].join('\n');

/** The same steps in a throwaway container on the volume (`/backup`: the backup folder, read-only). */
const restoreRdbInVolume = [
  'cd /data',
  '# 1. See it before changing anything: the file is damaged, the backup is good',
  'redis-check-rdb dump.rdb | grep -E "Unexpected EOF|CRC error|RDB ERROR" | tail -n 1',
  'redis-check-rdb /backup/dump.rdb | grep -F "RDB looks OK"',
  '# 2. The damaged file goes aside, not away; the backup takes its place',
  'mv dump.rdb "dump.rdb.damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'cp /backup/dump.rdb dump.rdb',
  '# 3. Give it the owner of /data (the official image runs Redis as "redis")',
  'chown "$(stat -c %u:%g .)" dump.rdb',
  'ls dump.rdb*',
];

/** Runs the Docker restore after a fixture and checks the container holds the backup (users 1..200) after it. */
async function restoreRdbDockerOnce(ctx: VerifyContext<RedisContainer, 'backup'>, fault: RegExp): Promise<void> {
  const server = ctx.server;
  const { exitCode, stdout } = await ctx.run({ timeoutMs: 90_000 });
  assert.equal(exitCode, 0);
  assert.match(stdout, fault);
  assert.match(stdout, /RDB looks OK/);
  assert.match(stdout, /^dump\.rdb\.damaged-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/m, 'the damaged file is kept aside');
  assert.match(stdout, /^db0:keys=200,/m);
  assert.equal(await server.isRunning(), true, 'the container runs again');
  await assertContainerHoldsBackup(server, ctx.values.backup);
  assert.deepEqual(await containerUserNumbers(server), range(200), 'the backup: users 1..200');
}

// ---------------------------------------------------------------------------------------------------
// A damaged AOF set

const aofServer = (extra: Record<string, string> = {}) => ({ config: { appendonly: 'yes', save: seedSaveLines, ...extra } });

/** The seed's Compose service (AOF on, its save rules), plus `extra`. */
const aofContainer = (extra: Record<string, string> = {}) => ({ config: { ...seedServerConfig, ...extra } });

// Valkey's log names its own checker, valkey-check-aof; the rest of the line is the same.
const UNEXPECTED_EOF = /# Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof\. You can: 1\) Make a backup of your AOF file, then use \.\/(redis|valkey)-check-aof --fix <filename\.manifest>\./;
const BAD_FORMAT_BEFORE_86 = /# Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof: make a backup of your AOF file, then use \.\/(redis|valkey)-check-aof --fix <filename\.manifest>/;
// Redis 8.6 names the file with its dir, gives the offset, and offers aof-load-corrupt-tail-max-size.
const BAD_FORMAT_WITH_DIR = /# Bad file format reading the append only file appendonlydir\/appendonly\.aof\.1\.incr\.aof at offset \d+\.\s+make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename\.manifest>\.\s+Alternatively you can set the 'aof-load-corrupt-tail-max-size'/;
// Redis 6.0 (one appendonly.aof) names no file and gives the checker the file itself.
const SINGLE_FILE_LINE_WHY = 'its AOF is one file, so the line names no file and ends `redis-check-aof --fix <filename>`: give it appendonly.aof.';
const BAD_FORMAT_SINGLE_FILE = /# Bad file format reading the append only file: make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename>$/m;
const UNEXPECTED_EOF_SINGLE_FILE = /# Unexpected end of file reading the append only file\. You can: 1\) Make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename>\./;
/** The log line of an AOF whose incr file is damaged mid-way, as this engine writes it. */
const badFormat = (engineId: string | undefined) => {
  const traits = engineTraits(engineId);
  if (traits.aofLayout === 'file') return BAD_FORMAT_SINGLE_FILE;
  return traits.aofLogWithDir ? BAD_FORMAT_WITH_DIR : BAD_FORMAT_BEFORE_86;
};
/** The log line of an AOF cut short that stops the start (aof-load-truncated no), as this engine writes it. */
const unexpectedEof = (engineId: string | undefined) => (engineTraits(engineId).aofLayout === 'file' ? UNEXPECTED_EOF_SINGLE_FILE : UNEXPECTED_EOF);
/** The line of an AOF cut short and loaded anyway (Redis 8.6 names the file with its dir; Redis 6.0, one appendonly.aof, names none). */
const loadedAnyway = (engineId: string | undefined) => {
  const traits = engineTraits(engineId);
  if (traits.aofLayout === 'file') return /# AOF loaded anyway because aof-load-truncated is enabled/;
  return new RegExp(`# AOF ${traits.aofLogWithDir ? 'appendonlydir/' : ''}appendonly\\.aof\\.1\\.incr\\.aof loaded anyway because aof-load-truncated is enabled`);
};
/** The two warnings of an AOF cut short and loaded anyway: the short read and the cut, naming the incr file (Redis 6.0: no file). */
const truncatedLines = (engineId: string | undefined): RegExp[] =>
  engineTraits(engineId).aofLayout === 'file'
    ? [/# !!! Warning: short read while loading the AOF file !!!/, /# !!! Truncating the AOF at offset \d+ !!!/]
    : [/# !!! Warning: short read while loading the AOF file appendonly\.aof\.1\.incr\.aof!!!/, /# !!! Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset \d+ !!!/];

/** Swap a repaired copy (appendonlydir.fix, made by the integrity page's repair) in place of the damaged AOF set. */
const swapFixedCopy = [
  '( set -eo pipefail',
  'cd {{dataDir}}',
  '# 1. The repaired copy must check clean',
  'redis-check-aof appendonlydir.fix/appendonly.aof.manifest | tail -n 1',
  '# 2. The damaged set goes aside, not away: it is your undo, and it still holds what --fix cut',
  'aside="aof-damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'mkdir "$aside"',
  'mv appendonlydir "$aside/"',
  'mv appendonlydir.fix appendonlydir',
  '# 3. Let the server user own them (host installs run Redis as "redis")',
  'chown -R redis:redis appendonlydir "$aside"',
  'ls appendonlydir )',
].join('\n');

/** Where the checker misreads the RDB base (Valkey 9.1): the copy's files checked one by one, as the server loads them. */
const SWAP_CHECK_WHY = 'its checker calls the RDB base file invalid (integrity page), so check the base with redis-check-rdb and each incr file by itself.';
const swapFixedCopyEachFile = replaced(
  swapFixedCopy,
  ['# 1. The repaired copy must check clean', 'redis-check-aof appendonlydir.fix/appendonly.aof.manifest | tail -n 1'].join('\n'),
  ['# 1. The repaired copy must check clean, file by file', ...checkEachAofFile('appendonlydir.fix', 'appendonly.aof.manifest', (call, filter) => `${call} | ${filter}`)].join('\n'),
);

/** The swap where the AOF is one file (Redis 6.0): the integrity page's repair leaves appendonly.aof.fix. */
const swapFixedFile = replacedEach(swapFixedCopy, [
  ['appendonlydir.fix/appendonly.aof.manifest', 'appendonly.aof.fix'],
  ['appendonlydir.fix', 'appendonly.aof.fix'],
  ['appendonlydir', 'appendonly.aof'],
  ['The damaged set goes aside', 'The damaged file goes aside'],
]);

/**
 * The swap in a throwaway container on the volume. No `pipefail` (the official image's sh is dash):
 * the check's output is kept in a variable, so a failing check still stops the script.
 */
const swapFixedCopyInVolume = [
  'cd /data',
  '# 1. The repaired copy must check clean',
  'check=$(redis-check-aof appendonlydir.fix/appendonly.aof.manifest)',
  'echo "$check" | tail -n 1',
  '# 2. The damaged set goes aside, not away: it is your undo, and it still holds what --fix cut',
  'aside="aof-damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'mkdir "$aside"',
  'mv appendonlydir "$aside/"',
  'mv appendonlydir.fix appendonlydir',
  '# 3. Give them the owner of /data (the official image runs Redis as "redis")',
  'chown -R "$(stat -c %u:%g .)" appendonlydir "$aside"',
  'ls appendonlydir',
];

const swapFixedCopyInVolumeEachFile = replaced(
  swapFixedCopyInVolume.join('\n'),
  ['# 1. The repaired copy must check clean', 'check=$(redis-check-aof appendonlydir.fix/appendonly.aof.manifest)', 'echo "$check" | tail -n 1'].join('\n'),
  ['# 1. The repaired copy must check clean, file by file', ...checkEachAofFile('appendonlydir.fix', 'appendonly.aof.manifest', (call, filter) => `check=$(${call}); echo "$check" | ${filter}`)].join('\n'),
).split('\n');

/** The swap's check of the repaired copy passed: the whole set by its manifest, (Valkey 9.1) its base and incr file one by one, or (Redis 6.0) its one file. */
function assertRepairedCopyChecked(stdout: string, engineId: string): void {
  if (engineTraits(engineId).aofLayout === 'file') {
    assert.match(stdout, /^AOF is valid$/m);
    return;
  }
  if (!engineTraits(engineId).checkAofMisreadsBase) {
    assert.match(stdout, /^All AOF files and manifest are valid$/m);
    return;
  }
  assert.match(stdout, /RDB looks OK/);
  assert.match(stdout, /^AOF appendonlydir\.fix\/appendonly\.aof\.\d+\.incr\.aof is (valid|empty)$/m);
}

/** Runs the Docker swap after a fixture (it starts the service) and returns the users the container holds. */
async function swapAndStartDocker(ctx: VerifyContext<RedisContainer>, label: string): Promise<number[]> {
  const server = ctx.server;
  ctx.note(`# ${label}`);
  const { exitCode, stdout } = await ctx.run({ timeoutMs: 90_000 });
  assert.equal(exitCode, 0);
  assertRepairedCopyChecked(stdout, server.engine.id);
  assert.equal(await server.isRunning(), true, 'the container runs again');
  const users = await containerUserNumbers(server);
  assert.match(stdout, new RegExp(`^db0:keys=${users.length},`, 'm'));
  ctx.note(`# the container runs again: ${users.length} keys (user:${users[0]} to user:${users.at(-1)})`);
  return users;
}

/** Runs the swap after a fixture, starts the server and returns the users it holds. */
async function swapAndStart(ctx: VerifyContext, label: string): Promise<number[]> {
  const server = ctx.server;
  ctx.note(`# ${label}`);
  const { exitCode, stdout } = await ctx.run();
  assert.equal(exitCode, 0);
  assertRepairedCopyChecked(stdout, server.engine.id);
  await server.start();
  const users = await userNumbers(server);
  ctx.note(`# then the server starts: ${users.length} keys (user:${users[0]} to user:${users.at(-1)})`);
  return users;
}

/** What the swap check does differently on a host server and in a container (the fixtures behind it). */
interface AofRepairKit<S extends ServerUnderTest> {
  /** Runs the page's swap, has the server running again, and returns the users it holds. */
  swapAndStart(ctx: VerifyContext<S>, label: string): Promise<number[]>;
  /** Empties the data dir of the stopped server. */
  empty(server: S): Promise<void>;
  /** Users 1..20, a clean stop, then `damage` done to the file the writes landed in. */
  damaged(server: S, damage: (file: string) => Promise<void>): Promise<void>;
  /** Starts the server and asserts that it exits, having logged `line`. */
  startFails(server: S, line: RegExp): Promise<void>;
  /** The integrity page's repair on a copy of the AOF. */
  fixCopy(server: S): Promise<void>;
}

/**
 * The check of the swap block, on either flavor: after "Unexpected end of file" every whole write is
 * back and the damaged AOF is kept aside; then the same steps after "Bad file format" keep only the
 * writes before the damage.
 */
function swapFixedCopyCheck<S extends ServerUnderTest>(kit: AofRepairKit<S>) {
  return async (ctx: VerifyContext<S>): Promise<void> => {
    const server = ctx.server;
    const afterCut = await kit.swapAndStart(ctx, 'After "Unexpected end of file" (the last of 20 writes cut short):');
    assert.deepEqual(afterCut, range(19), 'every whole write is back');
    const aside = (await server.dataEntries()).filter((name) => name.startsWith('aof-damaged-'));
    assert.equal(aside.length, 1);
    const damaged = engineTraits(server.engine.id).aofLayout === 'file' ? 'appendonly.aof' : 'appendonlydir';
    assert.deepEqual(await server.dataEntries(aside[0]), [damaged], 'the damaged AOF is kept aside');
    // The same steps after "Bad file format": the 11th of 20 writes broken.
    await server.stop();
    await kit.empty(server);
    await server.start();
    await kit.damaged(server, breakEleventhWrite);
    await kit.startFails(server, badFormat(server.engine.id));
    await kit.fixCopy(server);
    const afterGarbage = await kit.swapAndStart(ctx, 'After "Bad file format" (the 11th of 20 writes broken):');
    assert.deepEqual(afterGarbage, range(10), 'only the writes before the damage are back');
  };
}

// ---------------------------------------------------------------------------------------------------
// MISCONF: a snapshot that cannot be written (a server run as "redis", its data dir not writable)

/** The MISCONF reply as the engine words it (Valkey names itself where Redis does: measured on Valkey 8.1.1 and 9.1.2; Redis 6.0 says it otherwise). */
const misconf = (engineId: string | undefined) => {
  const traits = engineTraits(engineId);
  const reply = traits.saveWording6 ? replaced(MISCONF_REDIS, "it's currently unable to persist to disk", 'it is currently not able to persist on disk') : MISCONF_REDIS;
  return reply.replaceAll('Redis', traits.errorName);
};
const MISCONF_REDIS =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/**
 * A server run as `redis` with the seed's save rules, 100 users, then its data dir given to root (a
 * `mkdir` or a restore done as root) and a BGSAVE that fails: writes now get MISCONF.
 */
async function misconfServer(ctx: VerifyContext<unknown, ServiceUserKey>): Promise<ServiceUserServer> {
  const server = await startAsServiceUser(ctx, ['--appendonly', 'no', ...seedSaveLines.flatMap((rule) => ['--save', ...rule.split(' ')])]);
  try {
    const input = range(100).map((n) => `SET user:${n} ${userValue(n)}\n`).join('');
    assert.match((await server.cli(['--pipe'], input)).stdout, /errors: 0, replies: 100/);
    await execa('chown', ['root:root', server.dir]);
    assert.match((await server.cli(['BGSAVE'])).stdout, /Background saving started/);
    assert.equal(await server.bgsaveDone(), 'err');
    assert.equal((await server.cli(['SET', 'user:101', userValue(101)])).stdout.trim(), misconf(server.engine.id));
    assert.equal((await server.cli(['GET', 'user:1'])).stdout.trim(), userValue(1), 'reads still work');
    return server;
  } catch (error) {
    await server.kill();
    throw error;
  }
}

/** The MISCONF fixture on the host; its server is killed after the verification, whatever happened. */
async function misconfOnHost(ctx: VerifyContext<unknown, ServiceUserKey>): Promise<ServiceUserServer> {
  const server = await misconfServer(ctx);
  ctx.defer(() => server.kill());
  return server;
}

/**
 * The same in a container whose Redis runs as uid 999, as the official image runs it (seed's service,
 * `appendonly no`): 100 users, then /data given to root (`docker exec -u root … chown`, as a restore
 * or a copy done as root leaves it) and a BGSAVE that fails: writes now get MISCONF.
 */
async function misconfContainer(values: PlaceholderValues): Promise<ServiceUserContainer> {
  const names: DockerNames = { project: values.project ?? '', container: values.container ?? '', volume: values.volume ?? '', service: values.service ?? '' };
  const server = await startServiceUserContainer({ config: { ...seedServerConfig, appendonly: 'no' } }, names, values.image ?? '');
  try {
    await writeUsers(server, 1, 100);
    await docker(['exec', '--user', 'root', server.name, 'chown', '0:0', '/data']);
    assert.match((await server.cli(['BGSAVE'])).stdout, /Background saving started/);
    assert.equal(await server.bgsaveDone(), 'err');
    assert.equal((await server.cli(['SET', 'user:101', userValue(101)])).stdout.trim(), misconf(server.engine.id));
    assert.equal((await server.cli(['GET', 'user:1'])).stdout.trim(), userValue(1), 'reads still work');
    return server;
  } catch (error) {
    await server.dispose();
    throw error;
  }
}

/** Fresh names for the MISCONF container (the flavor starts it itself, as its server runs as uid 999). */
const misconfContainerValues = () => ({ ...uniqueNames() });

/** What a MISCONF check reads of either fixture: a server run as `redis`, or a container's Redis run as uid 999. */
type MisconfFixture = Pick<ServiceUserServer, 'engine' | 'persistence' | 'bgsaveDone'> & { cli(args: string[]): Promise<{ stdout: string }> };

/**
 * The flavors of a MISCONF block: the host's fixture runs as the `redis` user, the container's Redis as
 * uid 999; each is started by the verification and gone after it. `check` is the same on both.
 */
function misconfFlavors(
  check: (ctx: VerifyContext<unknown>, server: MisconfFixture) => Promise<void>,
  own: { host: Pick<HostFlavorInput<false, {}>, 'command' | 'variants'>; docker: string },
) {
  return {
    host: hostFlavor({ ...own.host, server: false, values: serviceUserValues, verify: async (ctx) => check(ctx, await misconfOnHost(ctx)) }),
    docker: dockerFlavor({
      command: own.docker,
      // Started by the verification: its Redis runs as uid 999, as the official image's does.
      server: false,
      values: misconfContainerValues,
      timeoutMs: 120_000,
      async verify(ctx) {
        const server = await misconfContainer(ctx.values);
        ctx.defer(() => server.dispose());
        await check(ctx, server);
      },
    }),
  };
}

/** The MISCONF fix through `cli`: `fix` (what the log names: `why`), then a save, waited for. */
const fixMisconfWith = (cli: string, why: string, fix: string) =>
  [
    '( set -e',
    `cli="${cli}"`,
    'field() { $cli INFO persistence | tr -d \'\\r\' | sed -n "s/^$1://p"; }',
    `# 1. Fix what the log names; here: ${why}`,
    fix,
    '# 2. Save now (after any save already running): writes are accepted again once a save succeeds',
    'while [ "$(field rdb_bgsave_in_progress)" = 1 ]; do sleep 0.2; done',
    '$cli BGSAVE',
    'while [ "$(field rdb_bgsave_in_progress)" = 1 ]; do sleep 0.2; done',
    'echo "rdb_last_bgsave_status: $(field rdb_last_bgsave_status)" )',
  ].join('\n');

/** The fix through docker exec: /data given back to the user Redis runs as (the owner of PID 1), then a save. */
const fixMisconfDocker = fixMisconfWith(
  'docker exec {{container}} redis-cli',
  '/data must belong to the user Redis runs as (the owner of PID 1)',
  'docker exec -u root {{container}} sh -c \'chown "$(stat -c %u:%g /proc/1)" /data\'',
);

/** Where log lines and replies about saving use Redis 6.0's words: the command that finds its lines, and why. */
const wording6Variant = (why: string, command: string) => engineVariant((traits) => traits.saveWording6, why, command);

/** What a save that cannot write logs (Redis 6.0 names the RDB file, not the temp file). */
const FAILED_OPENING = 'Failed opening the temp RDB file';
const FAILED_OPENING_6 = 'Failed opening the RDB file';
/** The line itself, as this engine logs it. */
const failedOpening = (engineId: string) =>
  engineTraits(engineId).saveWording6
    ? new RegExp(`# ${FAILED_OPENING_6} dump\\.rdb \\(in server root dir \\S+\\) for saving: Permission denied`)
    : new RegExp(`# ${FAILED_OPENING} temp-\\d+\\.rdb \\(in server root dir \\S+\\) for saving: Permission denied`);

/** The status and the log lines of a failed save, on the host. */
const misconfStatus = [
  "redis-cli -h {{host}} -p {{port}} INFO persistence | grep -E '^rdb_(changes_since_last_save|last_bgsave_status):'",
  `grep -E '${FAILED_OPENING}|Background saving error' {{logFile}} | tail -n 2`,
].join('\n');

const fixMisconf = fixMisconfWith('redis-cli -h {{host}} -p {{port}}', 'the data dir must belong to the user Redis runs as', 'chown redis:redis {{dataDir}}');

// ---------------------------------------------------------------------------------------------------
// Memory and slowness

/** The cached home page: the one big string of the crawler dataset. */
const homePage = `<html>${'<p>news</p>'.repeat(10_000)}</html>`;

/** A crawler-like dataset: 2000 small pages and one big one, a 50000-URL queue, a 5000-domain sorted set. */
async function crawlerDataset(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 1; i <= 2000; i++) pipeline.set(`page:${i}`, `<html>page ${i}</html>`);
    pipeline.set('page:home', homePage);
    for (let i = 1; i <= 50_000; i += 1000) {
      pipeline.rpush('crawl:queue', ...Array.from({ length: 1000 }, (_, j) => `https://example.com/page/${i + j}`));
    }
    for (let i = 1; i <= 5000; i++) pipeline.zadd('domains:ready', i, `domain-${i}.example`);
    await pipeline.exec();
  });
}

/**
 * `Biggest <type> found '"<key>"' has <n> <unit>` summary lines of --bigkeys / --memkeys (Redis 7.0
 * and Valkey; Redis 8.0's redis-cli quotes the key as `"<key>"`).
 */
function biggest(stdout: string): Array<{ type: string; key: string; size: number; unit: string }> {
  return [...stdout.matchAll(/^Biggest +(\w+) found '?"([^"]+)"'? has (\d+) (\w+)$/gm)].map((m) => ({ type: m[1] as string, key: m[2] as string, size: Number(m[3]), unit: m[4] as string }));
}

/** 100000 keys, a cleared slow log, then `KEYS *` over all of them (a classic cause of latency). */
async function slowKeysCommand(server: WithClient & { cli(args: string[]): Promise<{ stdout: string }> }): Promise<void> {
  await server.withClient(async (client) => {
    for (let i = 0; i < 100_000; i += 10_000) {
      const pipeline = client.pipeline();
      for (let j = i; j < i + 10_000; j++) pipeline.set(`page:${j}`, `<html>page ${j}</html>`);
      await pipeline.exec();
    }
    await client.slowlog('RESET');
  });
  // Through redis-cli, as an operator would run it (the slow log keeps the command as the client sent it).
  const keys = await server.cli(['KEYS', '*']);
  assert.equal(keys.stdout.split('\n').length, 100_000);
}

/** 5000 keys and a BGSAVE slowed to 10 ms a key (rdb-key-save-delay): a save that stays in progress. */
async function saveInProgress(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 1; i <= 5000; i++) pipeline.set(`page:${i}`, `<html>page ${i}</html>`);
    await pipeline.exec();
    await client.config('SET', 'rdb-key-save-delay', '10000');
    assert.equal(await client.bgsave(), 'Background saving started');
  });
}

/** The warning Redis 6.0 logs at start when vm.overcommit_memory is 0. */
const OVERCOMMIT_WARNING_6 =
  /# WARNING overcommit_memory is set to 0! Background save may fail under low memory condition\. To fix this issue add 'vm\.overcommit_memory = 1' to \/etc\/sysctl\.conf and then reboot or run the command 'sysctl vm\.overcommit_memory=1' for this to take effect\./;
/** The words the page's grep finds the warning by (Redis 7.0+, Valkey; Redis 6.0). */
const OVERCOMMIT_GREP = 'WARNING Memory overcommit must be enabled';
const OVERCOMMIT_GREP_6 = 'WARNING overcommit_memory is set to 0';

/** The overcommit setting and what the log says about it and about a failed fork. */
const overcommitCheck = ['sysctl vm.overcommit_memory', `grep -m 1 '${OVERCOMMIT_GREP}' {{logFile}}`, 'grep "Can\'t save in background: fork" {{logFile}} | tail -n 1'].join('\n');

/** The warning Redis logs at start when vm.overcommit_memory is not 1. */
const OVERCOMMIT_WARNING =
  /# WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition\..* 'vm\.overcommit_memory = 1' to \/etc\/sysctl\.conf .*'sysctl vm\.overcommit_memory=1'/;

/** --bigkeys on the crawler dataset: every key sampled, the biggest of each type by elements. */
function assertBigkeys(stdout: string): void {
  assert.match(stdout, /^Sampled 2003 keys in the keyspace!$/m);
  assert.deepEqual(
    biggest(stdout).map(({ type, key, size, unit }) => `${type} ${key} ${size} ${unit}`).sort(),
    ['list crawl:queue 50000 items', `string page:home ${homePage.length} bytes`, 'zset domains:ready 5000 members'],
  );
}

/** --memkeys on the crawler dataset: the queue is the biggest in bytes; the sizes the page quotes. */
function assertMemkeys(stdout: string, ctx: Pick<VerifyContext<unknown>, 'measure'>): void {
  const found = biggest(stdout);
  assert.ok(found.every((entry) => entry.unit === 'bytes'), 'sizes in bytes');
  const [top] = [...found].sort((a, b) => b.size - a.size);
  assert.equal(top?.key, 'crawl:queue', 'the biggest key in memory is the queue');
  assert.ok((top?.size ?? 0) > 1_000_000, 'the queue takes over a megabyte');
  const bytes = Object.fromEntries(found.map((entry) => [entry.key, entry.size]));
  assert.deepEqual(Object.keys(bytes).sort(), ['crawl:queue', 'domains:ready', 'page:home']);
  // The page renders these sizes from the report (<Measured/>), not typed.
  for (const [key, size] of Object.entries(bytes)) ctx.measure(`${key} bytes`, size);
  // The sizes the page quotes: about 1.6 MB, 0.4 to 0.8 MB (a skiplist's levels are random; Valkey 8.1's and 9.1's are smaller) and 0.1 MB.
  const about = (key: string, low: number, high: number) => assert.ok((bytes[key] ?? 0) > low && (bytes[key] ?? 0) < high, `${key}: ${bytes[key]} bytes`);
  about('crawl:queue', 1_500_000, 1_700_000);
  about('domains:ready', 380_000, 800_000);
  about('page:home', 100_000, 130_000);
}

/** SLOWLOG GET after `KEYS *` over 100000 keys: its entry, one field a line. */
function assertSlowKeysEntry(stdout: string): void {
  // Without a TTY each entry is printed one field a line: id, unix time, microseconds, the
  // command's words, the client's address, the client's name (empty).
  const lines = stdout.replace(/\r/g, '').split('\n');
  const keys = lines.findIndex((line, i) => line === 'KEYS' && lines[i + 1] === '*');
  assert.ok(keys >= 3, 'the KEYS * call is in the slow log');
  assert.match(lines[keys - 3] ?? '', /^\d+$/, 'entry id');
  assert.match(lines[keys - 2] ?? '', /^\d{10}$/, 'unix time');
  assert.ok(Number(lines[keys - 1]) >= 1000, 'its duration in microseconds is over the threshold');
  assert.match(lines[keys + 2] ?? '', /^127\.0\.0\.1:\d+$/, 'the client address');
}

/** --latency without a TTY: one line `min max avg samples`, then it exits. */
async function assertLatencyLine(ctx: { run(options?: { timeoutMs?: number }): Promise<{ exitCode: number; stdout: string }> }): Promise<void> {
  const started = Date.now();
  const { exitCode, stdout } = await ctx.run({ timeoutMs: 30_000 });
  assert.equal(exitCode, 0);
  // Not a terminal: one line, `min max avg samples` (milliseconds), then it exits.
  const match = /^(\d+) (\d+) (\d+\.\d{2}) (\d+)$/.exec(stdout.trim());
  assert.ok(match, `one line "min max avg samples", got: ${stdout}`);
  const [min, max, avg, samples] = match.slice(1).map(Number) as [number, number, number, number];
  assert.ok(min <= avg && avg <= max && samples > 0);
  assert.ok(Date.now() - started < 20_000, 'it ended by itself');
}

/** INFO fields of a save or rewrite in progress, as a grep pattern. */
const SAVE_FIELDS = 'rdb_bgsave_in_progress|aof_rewrite_in_progress|current_save_keys_processed|current_save_keys_total|latest_fork_usec';
/** The same where INFO has no save progress (Redis 6.0): how long the save has run instead. */
const SAVE_FIELDS_6 = replaced(SAVE_FIELDS, 'current_save_keys_processed|current_save_keys_total', 'rdb_current_bgsave_time_sec');
const saveInProgressCheck = `redis-cli -h {{host}} -p {{port}} INFO | grep -E '^(${SAVE_FIELDS}):'`;

/** The INFO fields of a save part way through 5000 keys (where INFO shows no progress, Redis 6.0: how long it has run). */
function assertSaveInProgress(stdout: string, engineId?: string): void {
  const fields = infoFields(stdout);
  assert.equal(fields.rdb_bgsave_in_progress, '1');
  assert.equal(fields.aof_rewrite_in_progress, '0');
  if (!engineTraits(engineId).saveProgress) {
    assert.equal(fields.current_save_keys_total, undefined);
    assert.match(fields.rdb_current_bgsave_time_sec ?? '', /^\d+$/);
    assert.match(fields.latest_fork_usec ?? '', /^\d+$/);
    return;
  }
  assert.equal(fields.current_save_keys_total, '5000');
  assert.ok(Number(fields.current_save_keys_processed) < 5000, 'the save is part way');
  assert.match(fields.latest_fork_usec ?? '', /^\d+$/);
}

export const troubleshootingSnippets = [
  // 1. A snapshot cut short
  defineSnippet({
    id: 'trouble-rdb-truncated-log',
    title: 'See why Redis will not start: a snapshot cut short',
    page,
    flavors: {
      host: {
        command: "grep -E 'Short read|Internal error in RDB' {{logFile}} | tail -n 2",
        server: rdbServer,
        setup: rdbRefused(cutDumpInHalf, SHORT_READ),
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, SHORT_READ);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> Unexpected EOF reading RDB file/);
        },
      },
      docker: {
        command: dockerLogGrep("grep -E 'Short read|Internal error in RDB' | tail -n 2"),
        server: rdbContainer,
        setup: rdbRefusedInVolume(cutInHalf, SHORT_READ),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, SHORT_READ);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> Unexpected EOF reading RDB file/);
          assert.equal(await ctx.server.isRunning(), false, 'the container exited');
        },
      },
    },
  }),
  // 2. A snapshot with a changed byte
  defineSnippet({
    id: 'trouble-rdb-checksum-log',
    title: 'See why Redis will not start: a snapshot checksum error',
    page,
    flavors: {
      host: {
        command: "grep -E 'Wrong RDB checksum|Internal error in RDB' {{logFile}} | tail -n 2",
        server: rdbServer,
        setup: rdbRefused(changeDumpByte, WRONG_CHECKSUM),
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, WRONG_CHECKSUM);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> RDB CRC error/);
          // What `rdbchecksum no` would have done: load the changed value without a word.
          const server = ctx.server;
          await server.start({ rdbchecksum: 'no' });
          assert.equal((await server.cli(['GET', 'user:150'])).stdout.trim(), 'Name-150');
          assert.equal((await server.cli(['DBSIZE'])).stdout.trim(), '300');
          await server.kill();
          ctx.note('# the same file with rdbchecksum no: the server starts, 300 keys, and GET user:150 gives "Name-150" (it was "name-150")');
        },
      },
      docker: {
        command: dockerLogGrep("grep -E 'Wrong RDB checksum|Internal error in RDB' | tail -n 2"),
        server: rdbContainer,
        setup: rdbRefusedInVolume(changeUserByte, WRONG_CHECKSUM),
        timeoutMs: 90_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, WRONG_CHECKSUM);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> RDB CRC error/);
          // What `rdbchecksum no` would have done: a container of the same image loads the changed value without a word.
          await using unchecked = await scratchContainerOnDump(ctx.server, { appendonly: 'no', save: '""', rdbchecksum: 'no' });
          assert.equal((await unchecked.cli(['GET', 'user:150'])).stdout.trim(), 'Name-150');
          assert.equal((await unchecked.cli(['DBSIZE'])).stdout.trim(), '300');
          ctx.note('# the same file with rdbchecksum no: the server starts, 300 keys, and GET user:150 gives "Name-150" (it was "name-150")');
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-rdb-restore-backup',
    title: 'Put the last good backup in place of a damaged dump.rdb',
    page,
    flavors: {
      host: {
        command: restoreRdb,
        server: rdbServer,
        setup: rdbRefused(cutDumpInHalf, SHORT_READ),
        values: backupValues,
        timeoutMs: 90_000,
        async verify(ctx) {
          const server = ctx.server;
          const backup = ctx.values.backup;
          ctx.note('# After "Short read or OOM loading DB" (dump.rdb cut short):');
          const first = await ctx.run();
          assert.equal(first.exitCode, 0);
          assert.match(first.stdout, /Unexpected EOF reading RDB file/);
          assert.match(first.stdout, /RDB looks OK/);
          await assertStartsWithBackup(server, backup);
          ctx.note(`# then the server starts with the backup: ${(await userNumbers(server)).length} keys`);
          // The same steps after the other fault: a byte changed, "Wrong RDB checksum".
          await writeUsers(server, 201, 300);
          await server.stop();
          for (const name of await readdir(server.dir)) if (name.startsWith('dump.rdb.damaged-')) await rm(join(server.dir, name));
          await changeDumpByte(server.dir);
          await assertStartFails(server, WRONG_CHECKSUM);
          ctx.note('# After "Wrong RDB checksum" (one byte of dump.rdb changed):');
          const second = await ctx.run();
          assert.equal(second.exitCode, 0);
          assert.match(second.stdout, /RDB CRC error/);
          await assertStartsWithBackup(server, backup);
          assert.deepEqual(await userNumbers(server), range(200), 'the backup: users 1..200');
          ctx.note('# then the server starts with the backup: 200 keys');
        },
      },
      docker: {
        // With a restart policy the container keeps exiting at start: stop it, fix the volume from a
        // throwaway container of the same image, start it.
        command: offline(restoreRdbInVolume, '-v {{volume}}:/data -v {{backup}}:/backup:ro'),
        compose: true,
        server: rdbContainer,
        setup: rdbRefusedInVolume(cutInHalf, SHORT_READ),
        values: dockerBackupValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const server = ctx.server;
          ctx.note('# After "Short read or OOM loading DB" (dump.rdb cut short):');
          await restoreRdbDockerOnce(ctx, /Unexpected EOF reading RDB file/);
          ctx.note('# then the container runs with the backup: 200 keys');
          // The same steps after the other fault: a byte changed, "Wrong RDB checksum".
          await writeUsers(server, 201, 300);
          await server.stop();
          await onVolume(server, 'rm /data/dump.rdb.damaged-*');
          await damageInVolume(server, 'dump.rdb', changeUserByte);
          await assertContainerStartFails(server, WRONG_CHECKSUM);
          ctx.note('# After "Wrong RDB checksum" (one byte of dump.rdb changed):');
          await restoreRdbDockerOnce(ctx, /RDB CRC error/);
          ctx.note('# then the container runs with the backup: 200 keys');
        },
      },
    },
  }),
  // 3. An AOF whose last write was cut short
  defineSnippet({
    id: 'trouble-aof-truncated-loaded',
    title: 'See what Redis did with an AOF cut short (aof-load-truncated yes)',
    page,
    flavors: {
      host: {
        command: "grep -E 'short read while loading|Truncating the AOF|loaded anyway' {{logFile}}",
        variants: [singleFileAofVariant('its AOF is one file, so the lines name no file: `short read while loading the AOF file !!!`, `Truncating the AOF at offset N`.')],
        server: aofServer(),
        async setup(server) {
          await damagedAof(server, cutLastWrite);
          await server.start();
        },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          for (const line of [...truncatedLines(server.engine.id), loadedAnyway(server.engine.id)]) assert.match(stdout, line);
          assert.ok(server.running, 'the server started');
          assert.deepEqual(await userNumbers(server), range(19), 'every whole write is there, the one cut short is not');
          // The incr file alone (Redis 6.0: its one file): its base is untouched, and Valkey 9.1's checker misreads a VALKEY base (integrity page).
          const check = await execa(server.engine.checkAof, [await lastAofFile(server)], { reject: false });
          assert.equal(check.exitCode, 0, 'Redis cut the partial command off the file itself');
        },
      },
      docker: {
        command: dockerLogGrep("grep -E 'short read while loading|Truncating the AOF|loaded anyway'"),
        server: aofContainer(),
        async setup(server) {
          await damagedAofInVolume(server, cutLastWrite);
          await server.start();
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /# !!! Warning: short read while loading the AOF file appendonly\.aof\.1\.incr\.aof!!!/);
          assert.match(stdout, /# !!! Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset \d+ !!!/);
          const server = ctx.server;
          assert.match(stdout, loadedAnyway(server.engine?.id));
          assert.equal(await server.isRunning(), true, 'the container runs');
          assert.deepEqual(await containerUserNumbers(server), range(19), 'every whole write is there, the one cut short is not');
          const check = await server.exec(['redis-check-aof', '/data/appendonlydir/appendonly.aof.1.incr.aof']);
          assert.equal(check.exitCode, 0, 'Redis cut the partial command off the file itself');
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-aof-truncated-refused',
    title: 'See why Redis will not start: an AOF cut short (aof-load-truncated no)',
    page,
    flavors: {
      host: {
        command: "grep 'Unexpected end of file reading the append only file' {{logFile}} | tail -n 1",
        variants: [singleFileAofVariant(SINGLE_FILE_LINE_WHY)],
        server: aofServer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAof(server, cutLastWrite);
          await assertStartFails(server, unexpectedEof(server.engine.id));
        },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, unexpectedEof(ctx.server.engine.id));
        },
      },
      docker: {
        command: dockerLogGrep("grep 'Unexpected end of file reading the append only file' | tail -n 1"),
        server: aofContainer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAofInVolume(server, cutLastWrite);
          await assertContainerStartFails(server, UNEXPECTED_EOF);
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, UNEXPECTED_EOF);
          assert.equal(stdout.trim().split('\n').length, 1);
        },
      },
    },
  }),
  // 4. Garbage inside the AOF
  defineSnippet({
    id: 'trouble-aof-bad-format',
    title: 'See why Redis will not start: garbage inside the AOF',
    page,
    flavors: {
      host: {
        command: "grep 'Bad file format reading the append only file' {{logFile}} | tail -n 1",
        variants: [singleFileAofVariant(SINGLE_FILE_LINE_WHY)],
        server: aofServer(),
        async setup(server) {
          await damagedAof(server, breakEleventhWrite);
          await assertStartFails(server, badFormat(server.engine.id));
        },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, badFormat(ctx.server.engine.id));
        },
      },
      docker: {
        command: dockerLogGrep("grep 'Bad file format reading the append only file' | tail -n 1"),
        server: aofContainer(),
        async setup(server) {
          await damagedAofInVolume(server, breakEleventhWrite);
          await assertContainerStartFails(server, badFormat(server.engine.id));
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, badFormat(ctx.server.engine.id));
          assert.equal(stdout.trim().split('\n').length, 1);
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-aof-swap-fixed-copy',
    title: 'Swap the repaired AOF copy in',
    page,
    flavors: {
      host: {
        command: swapFixedCopy,
        variants: [
          misreadBaseVariant(SWAP_CHECK_WHY, swapFixedCopyEachFile),
          singleFileAofVariant('its AOF is one file: the repair leaves appendonly.aof.fix, which goes in place of appendonly.aof.', swapFixedFile),
        ],
        server: aofServer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAof(server, cutLastWrite);
          await assertStartFails(server, unexpectedEof(server.engine.id));
          await fixCopy(server);
        },
        timeoutMs: 90_000,
        verify: swapFixedCopyCheck({ swapAndStart, empty: emptyDataDir, damaged: damagedAof, startFails: assertStartFails, fixCopy }),
      },
      docker: {
        command: offline(swapFixedCopyInVolume, '-v {{volume}}:/data'),
        variants: [misreadBaseVariant(SWAP_CHECK_WHY, offline(swapFixedCopyInVolumeEachFile, '-v {{volume}}:/data'))],
        compose: true,
        server: aofContainer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAofInVolume(server, cutLastWrite);
          await assertContainerStartFails(server, UNEXPECTED_EOF);
          await fixCopyInVolume(server);
        },
        timeoutMs: 180_000,
        verify: swapFixedCopyCheck({
          swapAndStart: swapAndStartDocker,
          empty: emptyVolume,
          damaged: damagedAofInVolume,
          startFails: assertContainerStartFails,
          fixCopy: fixCopyInVolume,
        }),
      },
    },
  }),
  // 5. A manifest that names a missing file
  defineSnippet({
    id: 'trouble-aof-missing-file',
    title: 'See why Redis will not start: a file of the AOF set is missing',
    page,
    flavors: {
      host: {
        command: ["grep 'Unable to obtain the AOF file' {{logFile}} | tail -n 1", 'redis-check-aof {{dataDir}}/appendonlydir/appendonly.aof.manifest | tail -n 1'].join('\n'),
        variants: [
          singleFileAofVariant(
            'there is no AOF set and no manifest: without its appendonly.aof it starts anyway, empty, and logs no error (the warning at the top of this page); restore the backup below.',
          ),
        ],
        server: aofServer(),
        setup: missingBaseFile,
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          if (engineTraits(server.engine.id).aofLayout === 'file') {
            // Nothing refused, nothing logged: the checker finds no manifest, and the server runs empty.
            assert.equal(stdout.trim(), SINGLE_FILE_NO_MANIFEST(server.dir));
            assert.ok(server.running, 'the server started');
            assert.equal((await server.cli(['DBSIZE'])).stdout.trim(), '0', 'it started empty');
            ctx.note('# the server runs, with 0 keys');
            return;
          }
          assert.match(stdout, /# Unable to obtain the AOF file appendonly\.aof\.\d+\.base\.rdb length\. stat: No such file or directory/);
          assert.match(stdout, /^Cannot open file \S+\/appendonlydir\/appendonly\.aof\.\d+\.base\.rdb: No such file or directory$/m);
        },
      },
      docker: {
        // The container is down: redis-check-aof runs in a throwaway container on the volume.
        command: [
          dockerLogGrep("grep 'Unable to obtain the AOF file' | tail -n 1"),
          'docker run --rm -v {{volume}}:/data {{image}} redis-check-aof /data/appendonlydir/appendonly.aof.manifest | tail -n 1',
        ].join('\n'),
        server: aofContainer(),
        setup: missingBaseInVolume(false),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /# Unable to obtain the AOF file appendonly\.aof\.\d+\.base\.rdb length\. stat: No such file or directory/);
          assert.match(stdout, /^Cannot open file \/data\/appendonlydir\/appendonly\.aof\.\d+\.base\.rdb: No such file or directory$/m);
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-aof-missing-file-restore',
    title: 'Restore the last backup when a file of the AOF set is missing',
    page,
    flavors: {
      host: {
        command: 'redis-playbook restore {{backup}} --data-dir {{dataDir}}',
        variants: [singleFileAofVariant('the backup goes in as dump.rdb and as appendonly.aof, its one AOF file (`installed: dump.rdb, appendonly.aof`).')],
        server: aofServer(),
        async setup(server, scratch) {
          await missingBaseFile(server, scratch);
          // Redis 6.0 started empty: stopped as an operator stops it before a restore (the stop saves the empty dataset).
          if (server.running) await server.stop();
        },
        values: backupValues,
        timeoutMs: 120_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          const aof = engineTraits(server.engine.id).aofLayout === 'file' ? 'appendonly\\.aof' : 'appendonlydir';
          assert.match(stdout, new RegExp(`installed: dump\\.rdb, ${aof}; appendonly yes`));
          await assertStartsWithBackup(server, ctx.values.backup);
          assert.deepEqual(await userNumbers(server), range(200), 'the backup: users 1..200');
          ctx.note('# then the server starts with the backup: 200 keys');
        },
      },
      docker: {
        // Stops the container if it runs, installs into its volume from a throwaway container, starts it and waits.
        command: 'redis-playbook restore {{backup}} --container {{container}}',
        server: aofContainer(),
        setup: missingBaseInVolume(true),
        values: backupValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run({ timeoutMs: 150_000 });
          assert.equal(exitCode, 0);
          assert.match(stdout, /installed: dump\.rdb, appendonlydir; appendonly yes/);
          const server = ctx.server;
          assert.equal(await server.isRunning(), true, 'the container runs again');
          await assertContainerHoldsBackup(server, ctx.values.backup);
          assert.deepEqual(await containerUserNumbers(server), range(200), 'the backup: users 1..200');
          ctx.note('# then the container runs with the backup: 200 keys');
        },
      },
    },
  }),
  // 6. MISCONF
  defineSnippet({
    id: 'trouble-misconf-status',
    title: 'See why writes fail with MISCONF',
    page,
    flavors: misconfFlavors(
      async (ctx, server) => {
        const { exitCode, stdout } = await ctx.run();
        assert.equal(exitCode, 0);
        const fields = infoFields(stdout);
        assert.equal(fields.rdb_last_bgsave_status, 'err');
        assert.equal(fields.rdb_changes_since_last_save, '100');
        assert.match(stdout, failedOpening(server.engine.id));
        assert.match(stdout, /# Background saving error$/m);
        // MISCONF needs save rules: without any, the failed save does not stop writes.
        await server.cli(['CONFIG', 'SET', 'save', '']);
        assert.equal((await server.cli(['SET', 'user:101', userValue(101)])).stdout.trim(), 'OK');
        assert.equal(await server.persistence('rdb_last_bgsave_status'), 'err');
      },
      {
        host: {
          command: misconfStatus,
          variants: [
            wording6Variant(
              'the log line is `Failed opening the RDB file dump.rdb …`, and writes get `MISCONF … it is currently not able to persist on disk`.',
              replaced(misconfStatus, FAILED_OPENING, FAILED_OPENING_6),
            ),
          ],
        },
        docker: [
          "docker exec {{container}} redis-cli INFO persistence | grep -E '^rdb_(changes_since_last_save|last_bgsave_status):'",
          dockerLogGrep("grep -E 'Failed opening the temp RDB file|Background saving error' | tail -n 2"),
        ].join('\n'),
      },
    ),
  }),
  defineSnippet({
    id: 'trouble-misconf-fix',
    title: 'Fix the cause, then save: writes are accepted again',
    page,
    flavors: misconfFlavors(
      async (ctx, server) => {
        const { exitCode, stdout } = await ctx.run();
        assert.equal(exitCode, 0);
        assert.match(stdout, /^Background saving started$/m);
        assert.match(stdout, /^rdb_last_bgsave_status: ok$/m);
        assert.equal((await server.cli(['SET', 'user:101', userValue(101)])).stdout.trim(), 'OK', 'writes are accepted again');
        if (server instanceof ServiceUserContainer) {
          const owner = await server.exec(['stat', '-c', '%u', '/data', '/data/dump.rdb']);
          assert.deepEqual(owner.stdout.trim().split('\n'), [String(SERVICE_UID), String(SERVICE_UID)], '/data is the server user\'s again, and it wrote the snapshot');
        } else {
          const dump = await stat(join((server as ServiceUserServer).dir, 'dump.rdb'));
          assert.equal(dump.uid, Number((await execa('id', ['-u', 'redis'])).stdout.trim()), 'the snapshot was written by the redis user');
        }
      },
      { host: { command: fixMisconf }, docker: fixMisconfDocker },
    ),
  }),
  defineSnippet({
    id: 'trouble-misconf-allow-writes',
    title: 'Accept writes while snapshots still fail (temporary)',
    page,
    flavors: misconfFlavors(
      async (ctx, server) => {
        const { exitCode, stdout } = await ctx.run();
        assert.equal(exitCode, 0);
        assert.equal(stdout.trim(), 'OK');
        assert.equal((await server.cli(['SET', 'user:101', userValue(101)])).stdout.trim(), 'OK', 'writes are accepted');
        // …but nothing is saved: the next snapshot fails just the same.
        assert.match((await server.cli(['BGSAVE'])).stdout, /Background saving started/);
        assert.equal(await server.bgsaveDone(), 'err', 'snapshots still fail');
        assert.equal(await server.persistence('rdb_changes_since_last_save'), '101');
      },
      {
        host: { command: 'redis-cli -h {{host}} -p {{port}} CONFIG SET stop-writes-on-bgsave-error no' },
        docker: 'docker exec {{container}} redis-cli CONFIG SET stop-writes-on-bgsave-error no',
      },
    ),
  }),
  // 7. fork: Cannot allocate memory
  defineSnippet({
    id: 'trouble-overcommit',
    title: 'Check the overcommit setting a background save needs',
    page,
    flavors: {
      host: {
        command: overcommitCheck,
        variants: [
          wording6Variant(
            'the warning reads `WARNING overcommit_memory is set to 0! Background save may fail under low memory condition.`',
            replaced(overcommitCheck, OVERCOMMIT_GREP, OVERCOMMIT_GREP_6),
          ),
        ],
        server: { config: { appendonly: 'no', save: seedSaveLines } },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const setting = (await readFile('/proc/sys/vm/overcommit_memory', 'utf8')).trim();
          assert.match(stdout, new RegExp(`^vm\\.overcommit_memory = ${setting}$`, 'm'));
          const wording6 = engineTraits(ctx.engine.id).saveWording6;
          const warning = wording6 ? OVERCOMMIT_WARNING_6 : OVERCOMMIT_WARNING;
          // Redis 6.0 warns only when the setting is 0 (its warning says so); 7.0+ whenever it is not 1.
          if (wording6 ? setting !== '0' : setting === '1') assert.doesNotMatch(stdout, warning);
          else assert.match(stdout, warning, 'Redis warns at start when overcommit is not 1');
          assert.doesNotMatch(stdout, /Can't save in background/, 'no fork failed here (it cannot be reproduced on this machine)');
          // The line the page quotes is the one this engine's server logs when fork fails.
          const binary = engineProgramFile(ctx.engine, 'server');
          assert.equal((await execa('grep', ['-c', '-a', "Can't save in background: fork: %s", binary], { reject: false })).stdout.trim() !== '0', true);
        },
      },
      docker: {
        // The setting is the Docker host's: containers share its kernel.
        command: [
          'sysctl vm.overcommit_memory',
          dockerLogGrep("grep -m 1 'WARNING Memory overcommit must be enabled'"),
          dockerLogGrep('grep "Can\'t save in background: fork" | tail -n 1'),
        ].join('\n'),
        server: { config: { ...seedServerConfig, appendonly: 'no' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const setting = (await readFile('/proc/sys/vm/overcommit_memory', 'utf8')).trim();
          assert.match(stdout, new RegExp(`^vm\\.overcommit_memory = ${setting}$`, 'm'));
          if (setting === '1') assert.doesNotMatch(stdout, OVERCOMMIT_WARNING);
          else assert.match(stdout, OVERCOMMIT_WARNING, 'Redis in the container warns at start when the host\'s overcommit is not 1');
          assert.doesNotMatch(stdout, /Can't save in background/, 'no fork failed here (it cannot be reproduced on this machine)');
          // The line the page quotes is the one the image's redis-server logs when fork fails.
          const inImage = await ctx.server.exec(['sh', '-c', 'grep -c "$0" "$(command -v redis-server)"', "Can't save in background: fork: %s"]);
          assert.notEqual(inImage.stdout.trim(), '0');
          assert.equal(inImage.exitCode, 0, inImage.stderr);
        },
      },
    },
  }),
  // 8. Memory
  defineSnippet({
    id: 'trouble-bigkeys',
    title: 'Find the biggest key of each type (by elements)',
    page,
    flavors: sameCheck(
      {
        config: { appendonly: 'no', save: '""' },
        setup: crawlerDataset,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assertBigkeys(stdout);
        },
      },
      { host: 'redis-cli -h {{host}} -p {{port}} --bigkeys', docker: 'docker exec {{container}} redis-cli --bigkeys' },
    ),
  }),
  defineSnippet({
    id: 'trouble-memkeys',
    title: 'Find the biggest key of each type (by memory)',
    page,
    flavors: sameCheck(
      {
        config: { appendonly: 'no', save: '""' },
        setup: crawlerDataset,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assertMemkeys(stdout, ctx);
        },
      },
      { host: 'redis-cli -h {{host}} -p {{port}} --memkeys', docker: 'docker exec {{container}} redis-cli --memkeys' },
    ),
  }),
  // 9. Slowness
  defineSnippet({
    id: 'trouble-slowlog',
    title: 'List the slowest recent commands',
    page,
    flavors: sameCheck(
      {
        config: { appendonly: 'no', save: '""', 'slowlog-log-slower-than': 1000 },
        setup: slowKeysCommand,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assertSlowKeysEntry(stdout);
        },
      },
      { host: 'redis-cli -h {{host}} -p {{port}} SLOWLOG GET 10', docker: 'docker exec {{container}} redis-cli SLOWLOG GET 10' },
    ),
  }),
  defineSnippet({
    id: 'trouble-latency',
    title: 'Measure round-trip latency once',
    page,
    flavors: sameCheck(
      {
        config: { appendonly: 'no', save: '""' },
        async verify(ctx) {
          await assertLatencyLine(ctx);
          // The slow log's defaults the page quotes (this server runs with them).
          const defaults = await ctx.server.cli(['CONFIG', 'GET', 'slowlog-*']);
          assert.deepEqual(configPairs(defaults.stdout), { 'slowlog-log-slower-than': '10000', 'slowlog-max-len': '128' });
        },
      },
      {
        host: 'redis-cli -h {{host}} -p {{port}} --latency',
        // From inside the container: the loopback only. Run redis-cli from the application's host or container to include the network.
        docker: 'docker exec {{container}} redis-cli --latency',
      },
    ),
  }),
  defineSnippet({
    id: 'trouble-save-in-progress',
    title: 'See whether a save or rewrite runs now',
    page,
    flavors: {
      host: {
        command: saveInProgressCheck,
        variants: [
          engineVariant(
            (traits) => !traits.saveProgress,
            'INFO does not say how far a save is (no current_save_keys_*): rdb_current_bgsave_time_sec says how long it has run.',
            replaced(saveInProgressCheck, SAVE_FIELDS, SAVE_FIELDS_6),
          ),
        ],
        server: { config: { appendonly: 'no', save: '""' } },
        setup: saveInProgress,
        async verify(ctx) {
          const server = ctx.server;
          try {
            const { exitCode, stdout } = await ctx.run();
            assert.equal(exitCode, 0);
            assertSaveInProgress(stdout, server.engine.id);
          } finally {
            // SHUTDOWN NOSAVE also ends the slowed-down save child.
            await server.stop({ save: false });
          }
        },
      },
      docker: {
        command:
          `docker exec {{container}} redis-cli INFO | grep -E '^(${SAVE_FIELDS}):'`,
        server: { config: { appendonly: 'no', save: '""' } },
        setup: saveInProgress,
        async verify(ctx) {
          // The slowed-down save child ends with the container when the verification removes it.
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assertSaveInProgress(stdout);
        },
      },
    },
  }),
];

/** What the page's check prints on a server without an AOF set (Redis 6.0): no log line, and no manifest to read. */
const SINGLE_FILE_NO_MANIFEST = (dir: string) => `Cannot open file: ${dir}/appendonlydir/appendonly.aof.manifest`;

/**
 * Users 1..200 backed up, 201..300 written, then the base file of the AOF set deleted and a start
 * refused. Where the AOF is one file (Redis 6.0) that file is deleted instead, and the start is not
 * refused: the server comes up empty, and stays up.
 */
async function missingBaseFile(server: DisposableRedis, scratch: string): Promise<void> {
  await usersBackedUpThenMore(server, scratch);
  if (engineTraits(server.engine.id).aofLayout === 'file') {
    await rm(join(server.dir, 'appendonly.aof'));
    await server.start();
    assert.deepEqual(await userNumbers(server), [], 'a start without appendonly.aof is an empty start');
    return;
  }
  const manifest = parseAofManifest(await readFile(join(server.dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'));
  const base = manifest.find((entry) => entry.type === 'b');
  assert.ok(base);
  await rm(join(server.dir, 'appendonlydir', base.file));
  await assertStartFails(server, /Unable to obtain the AOF file .* length/);
}

/** The CLI as an operator runs it (bin/redis-playbook), for a backup taken the way a reader would. */
const playbookCli = fileURLToPath(new URL('../../../bin/redis-playbook', import.meta.url));

/**
 * The same in a container: users 1..200 (with `backup`, a backup of them taken with
 * `redis-playbook backup --container` into scratch/backups), 201..300, a clean stop, then the base
 * file of the AOF set deleted from the volume and a start that exits.
 */
function missingBaseInVolume(backup: boolean) {
  return async (server: RedisContainer, scratch: string): Promise<void> => {
    await writeUsers(server, 1, 200);
    if (backup) await execa(playbookCli, ['backup', '--container', server.name, '--to', scratchBackups(scratch)], { env: server.env });
    await writeUsers(server, 201, 300);
    await server.stop();
    await removeBaseInVolume(server);
    await assertContainerStartFails(server, /Unable to obtain the AOF file .* length/);
  };
}

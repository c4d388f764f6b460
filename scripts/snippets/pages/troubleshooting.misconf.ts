/* eslint-disable @typescript-eslint/no-empty-object-type -- `{}` is the default of a flavor's server options and placeholder values (none declared), which the flavor types infer from. */
import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../exec.ts';
import { infoFields } from '../outputs.ts';
import { defineSnippet, dockerFlavor, hostFlavor, type HostFlavorInput, type VerifyContext } from '../schema.ts';
import { range, userValue, writeUsers } from '../scenarios/damaged-files.ts';
import { serviceUserValues, startAsServiceUser, type ServiceUserKey, type ServiceUserServer } from '../scenarios/service-user-server.ts';
import { SERVICE_UID, ServiceUserContainer, startServiceUserContainer } from '../scenarios/service-user-container.ts';
import { docker } from '../../harness/docker/exec.ts';
import { uniqueNames, type DockerNames } from '../../harness/docker/options.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { replaced } from '../variants.ts';
import { dockerLogGrep, page, seedSaveLines, wording6Variant } from '../scenarios/troubleshooting.ts';
import { waitWhile } from '../shell-wait.ts';

// ---------------------------------------------------------------------------------------------------
// MISCONF: a snapshot that cannot be written (a server run as "redis", its data dir not writable)

/** The MISCONF reply as the engine words it (Valkey names itself where Redis does: measured on Valkey 8.1.1 and 9.1.2; Redis 6.0 says it otherwise). */
const misconf = (engineId: string | undefined) => {
  const traits = engineTraits(engineId);
  const reply = traits.saveWording6
    ? replaced(MISCONF_REDIS, "it's currently unable to persist to disk", 'it is currently not able to persist on disk')
    : MISCONF_REDIS;
  return reply.replaceAll('Redis', traits.errorName);
};
const MISCONF_REDIS =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/** A BGSAVE that fails, and what follows: writes get MISCONF, reads still work. */
async function assertSaveFailsThenMisconf(server: MisconfFixture): Promise<void> {
  assert.match((await server.cli(['BGSAVE'])).stdout, /Background saving started/);
  assert.equal(await server.bgsaveDone(), 'err');
  assert.equal((await server.cli(['SET', 'user:101', userValue(101)])).stdout.trim(), misconf(server.engine.id));
  assert.equal((await server.cli(['GET', 'user:1'])).stdout.trim(), userValue(1), 'reads still work');
}

/**
 * A server run as `redis` with the seed's save rules, 100 users, then its data dir given to root (a
 * `mkdir` or a restore done as root) and a BGSAVE that fails: writes now get MISCONF. Killed after
 * the verification, whatever happened.
 */
async function misconfOnHost(ctx: VerifyContext<unknown, ServiceUserKey>): Promise<ServiceUserServer> {
  const server = await startAsServiceUser(ctx, ['--appendonly', 'no', ...seedSaveLines.flatMap((rule) => ['--save', ...rule.split(' ')])]);
  ctx.defer(() => server.kill());
  const input = range(100)
    .map((n) => `SET user:${n} ${userValue(n)}\n`)
    .join('');
  assert.match((await server.cli(['--pipe'], input)).stdout, /errors: 0, replies: 100/);
  await exec('chown', ['root:root', server.dir]);
  await assertSaveFailsThenMisconf(server);
  return server;
}

/**
 * The same in a container whose Redis runs as uid 999, as the official image runs it (seed's service,
 * `appendonly no`): 100 users, then /data given to root (`docker exec -u root … chown`, as a restore
 * or a copy done as root leaves it) and a BGSAVE that fails: writes now get MISCONF. Removed after the
 * verification, whatever happened.
 */
async function misconfInContainer(ctx: VerifyContext<unknown>): Promise<ServiceUserContainer> {
  const { values } = ctx;
  const names: DockerNames = {
    project: values.project ?? '',
    container: values.container ?? '',
    volume: values.volume ?? '',
    service: values.service ?? '',
  };
  const server = await startServiceUserContainer({ config: { ...seedServerConfig, appendonly: 'no' } }, names, values.image ?? '');
  ctx.defer(() => server.dispose());
  await writeUsers(server, 1, 100);
  await docker(['exec', '--user', 'root', server.name, 'chown', '0:0', '/data']);
  await assertSaveFailsThenMisconf(server);
  return server;
}

/** Fresh names for the MISCONF container (the flavor starts it itself, as its server runs as uid 999). */
const misconfContainerValues = () => ({ ...uniqueNames() });

/** What a MISCONF check reads of either fixture: a server run as `redis`, or a container's Redis run as uid 999. */
type MisconfFixture = Pick<ServiceUserServer, 'engine' | 'persistence' | 'bgsaveDone'> & {
  cli(args: string[]): Promise<{ stdout: string }>;
};

/**
 * The flavors of a MISCONF block: the host's fixture runs as the `redis` user, the container's Redis as
 * uid 999; each is started by the verification and gone after it. `check` is the same on both.
 */
function misconfFlavors(
  check: (ctx: VerifyContext<unknown>, server: MisconfFixture) => Promise<void>,
  own: { host: Pick<HostFlavorInput<false, {}>, 'command' | 'variants'>; docker: string },
) {
  return {
    host: hostFlavor({
      ...own.host,
      server: false,
      values: serviceUserValues,
      verify: async (ctx) => check(ctx, await misconfOnHost(ctx)),
    }),
    docker: dockerFlavor({
      command: own.docker,
      // Started by the verification: its Redis runs as uid 999, as the official image's does.
      server: false,
      values: misconfContainerValues,
      timeoutMs: 120_000,
      verify: async (ctx) => check(ctx, await misconfInContainer(ctx)),
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
    waitWhile('[ "$(field rdb_bgsave_in_progress)" = 1 ]', { seconds: 3600, interval: 0.2 }),
    '$cli BGSAVE',
    waitWhile('[ "$(field rdb_bgsave_in_progress)" = 1 ]', { seconds: 3600, interval: 0.2 }),
    'echo "rdb_last_bgsave_status: $(field rdb_last_bgsave_status)" )',
  ].join('\n');

/** The fix through docker exec: /data given back to the user Redis runs as (the owner of PID 1), then a save. */
const fixMisconfDocker = fixMisconfWith(
  'docker exec {{container}} redis-cli',
  '/data must belong to the user Redis runs as (the owner of PID 1)',
  'docker exec -u root {{container}} sh -c \'chown "$(stat -c %u:%g /proc/1)" /data\'',
);

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

const fixMisconf = fixMisconfWith(
  'redis-cli -h {{host}} -p {{port}}',
  'the data dir must belong to the user Redis runs as',
  'chown redis:redis {{dataDir}}',
);

/** The troubleshooting page's blocks of one fault: MISCONF: a snapshot that cannot be written. */
export const misconfSnippets = [
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
          assert.deepEqual(
            owner.stdout.trim().split('\n'),
            [String(SERVICE_UID), String(SERVICE_UID)],
            "/data is the server user's again, and it wrote the snapshot",
          );
        } else {
          const dump = await stat(join((server as ServiceUserServer).dir, 'dump.rdb'));
          assert.equal(dump.uid, Number((await exec('id', ['-u', 'redis'])).stdout.trim()), 'the snapshot was written by the redis user');
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
];

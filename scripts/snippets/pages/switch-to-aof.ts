import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComposeRedis } from '../../harness/docker/compose.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { waitFor } from '../../harness/wait.ts';
import { diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import { dockerPractice } from '../docker-practice.ts';
import { exec } from '../exec.ts';
import { infoFields, labelledNumber } from '../outputs.ts';
import { practice } from '../practice.ts';
import { defineSnippet, type VerifyContext } from '../schema.ts';
import { drillFlavors } from '../drill.ts';
import { assertContainerHolds, type WithClient } from '../scenarios/docker.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { engineVariant, replaced, singleFileAofVariant } from '../variants.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { waitUntil } from '../shell-wait.ts';

const page = 'persistence/switch-to-aof';

const AFTER_RESTART = 'keys after the restart with appendonly yes';

/** A line printing `<label>: N keys read` for the practice server's dump.rdb. */
const dumpKeys = (label: string) => `echo "${label}: $(redis-check-rdb "$dir/dump.rdb" | grep -o '[0-9]* keys read')"`;

/** The same for the practice volume's dump.rdb, read by a throwaway container of the image. */
const dockerDumpKeys = (label: string) =>
  `echo "${label}: $(docker run --rm -v "$v":/data {{image}} redis-check-rdb /data/dump.rdb | grep -o '[0-9]* keys read')"`;

/**
 * The end of the trap, in either flavor (`p` is practice or dockerPractice, `keys` prints dump.rdb's
 * key count): the empty start, dump.rdb still full, then the next save empties it.
 */
function emptyStartThenSave(p: typeof practice | typeof dockerPractice, keys: (label: string) => string): string[] {
  return [
    ...p.count(AFTER_RESTART),
    keys('dump.rdb still holds'),
    '# Its next save (a save rule, or any clean stop) writes the empty dataset over dump.rdb',
    ...p.stop(),
    keys('dump.rdb after the next save holds'),
  ];
}

/** `'save 900 1' 'save 300 10' …`: one redis.conf line per rule, as every engine reads them (Redis 6.0 ignores a line of several). */
const saveLines = seedServerConfig.save.map((rule) => `'save ${rule}'`).join(' ');

/**
 * The trap on a practice server started from a config file, as a host install is: snapshots only,
 * 50000 keys, then `appendonly yes` written into the file and a restart.
 */
const trapDrill = [
  'dir={{scratchDir}}; port={{scratchPort}}; opts=("$dir/redis.conf")',
  'mkdir -p "$dir"',
  '# A snapshot-only server, started from its config file',
  `printf '%s\\n' "port $port" "bind 127.0.0.1" "dir $dir" "daemonize yes" "pidfile $dir/redis.pid" "logfile $dir/redis.log" ${saveLines} 'appendonly no' > "$dir/redis.conf"`,
  ...practice.start(),
  ...practice.write(1, 50000),
  '# The change that loses the data: appendonly yes in the config file, then a restart',
  'sed -i \'s/^appendonly no$/appendonly yes/\' "$dir/redis.conf"',
  ...practice.stop(),
  ...practice.start(),
  ...emptyStartThenSave(practice, dumpKeys),
].join('\n');

/**
 * The same in a practice container: snapshot-only, 50000 keys, then what `docker compose up -d` does
 * after `--appendonly yes` was added to `command:` (a clean stop, a new container on the same volume).
 */
const dockerTrapDrill = [
  ...dockerPractice.setup(`--save "${seedSaveRules}" --appendonly no`),
  ...dockerPractice.write(1, 50000),
  '# --appendonly yes added to command:, then docker compose up -d: it stops the container and creates a new one on the volume',
  ...dockerPractice.stop(),
  'docker rm "$c" >/dev/null',
  `docker run -d --name "$c" --network none -v "$v":/data {{image}} redis-server --save "${seedSaveRules}" --appendonly yes >/dev/null`,
  ...dockerPractice.wait(),
  ...emptyStartThenSave(dockerPractice, dockerDumpKeys),
  ...dockerPractice.discard(),
].join('\n');

/** The trap came up empty and then lost the snapshot too. */
function checkTrap(stdout: string): void {
  assert.equal(labelledNumber(stdout, AFTER_RESTART), 0, 'appendonly yes with no AOF yet starts empty: dump.rdb is ignored');
  assert.match(stdout, /dump\.rdb still holds: 50000 keys read/, 'until its next save, dump.rdb still has the data');
  assert.match(stdout, /dump\.rdb after the next save holds: 0 keys read/, 'the next save wrote the empty dataset over it');
}

/** The wait for the AOF rewrite that `CONFIG SET appendonly yes` starts, with `field` reading INFO persistence. */
const waitForAof = [
  '# 2. Wait until Redis has written the whole dataset to the new AOF, and check that it succeeded',
  waitUntil(
    '[ "$(field aof_rewrite_in_progress)" = 0 ] && [ "$(field aof_rewrite_scheduled)" = 0 ] || [ "$(field aof_last_bgrewrite_status)" = err ]',
    { seconds: 3600, interval: 0.2 },
  ),
  'if [ "$(field aof_last_bgrewrite_status)" != ok ] || [ "$(field aof_enabled)" != 1 ]; then echo "The AOF rewrite failed: see the server log. Nothing was saved to the config file." >&2; exit 1; fi',
  'echo "AOF written: aof_last_bgrewrite_status ok"',
];

/** The live switch on a host install: CONFIG SET, wait, CONFIG REWRITE into the config file. */
const liveSwitch = [
  '( set -eo pipefail',
  'cli="redis-cli -e -h {{host}} -p {{port}}"',
  'field() { $cli INFO persistence | tr -d \'\\r\' | sed -n "s/^$1://p"; }',
  '# 1. Switch the AOF on in the running server: it writes an AOF of everything it holds',
  '$cli CONFIG SET appendonly yes',
  ...waitForAof,
  '# 3. Only now write the setting into the config file, so that the next start keeps it',
  '$cli CONFIG REWRITE',
  "grep '^appendonly' {{configFile}} )",
].join('\n');

/**
 * The live switch for a redis-cli without `-e` (Redis 6.0): an error reply still exits 0, so each
 * reply that must be OK goes through `grep -x OK`, which stops the script (pipefail) on any other.
 */
const liveSwitchNoE = replaced(
  replaced(
    replaced(liveSwitch, 'redis-cli -e -h', 'redis-cli -h'),
    '$cli CONFIG SET appendonly yes',
    '$cli CONFIG SET appendonly yes | grep -x OK',
  ),
  '$cli CONFIG REWRITE',
  '$cli CONFIG REWRITE | grep -x OK',
);

/** The same through docker exec; the setting goes into the compose file by hand (see the page). */
const dockerLiveSwitch = [
  '( set -eo pipefail',
  'field() { docker exec {{container}} redis-cli INFO persistence | tr -d \'\\r\' | sed -n "s/^$1://p"; }',
  '# 1. Switch the AOF on in the running server: it writes an AOF of everything it holds',
  'docker exec {{container}} redis-cli -e CONFIG SET appendonly yes',
  ...waitForAof,
  ')',
].join('\n');

/**
 * Slows each key of a save or AOF rewrite by 300 µs (a hidden setting Redis's own tests use), so the
 * rewrite of the ~1000 keys below runs for about 0.3 s: a wait that did not wait is then caught by the
 * check that no rewrite is in progress when the block ends.
 */
const slowRewrite = { 'rdb-key-save-delay': 300 };

/** A snapshot-only server's data: a mixed dataset, saved (dump.rdb is there, as on a server that has run a while). */
async function snapshotOnlyWithData(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 200);
    await client.save();
  });
}

/** The switch's output: the rewrite finished and succeeded, and the server now runs with the AOF. */
function checkSwitched(stdout: string, persistence: Record<string, string>): void {
  assert.match(stdout, /^AOF written: aof_last_bgrewrite_status ok$/m);
  assert.equal(persistence.aof_enabled, '1');
  assert.equal(persistence.aof_rewrite_in_progress, '0');
  assert.equal(persistence.aof_last_bgrewrite_status, 'ok');
}

/**
 * Stops the harness server and starts the engine's server on the config file exactly as CONFIG
 * REWRITE left it (the harness's own start would write a fresh one), then returns its dataset and log.
 */
async function restartOnRewrittenConfig(server: DisposableRedis, engineServer: string): Promise<{ dataset: Dataset; log: string }> {
  await server.stop();
  const logBefore = (await server.log()).length;
  const child = exec(engineServer, [server.configFile], { stdio: 'ignore', reject: false });
  try {
    await waitFor(async () => (await server.cli(['PING'])).stdout.trim() === 'PONG', {
      what: 'the restarted server to answer PING',
      timeoutMs: 30_000,
    });
    return { dataset: await server.withClient(readDataset), log: (await server.log()).slice(logBefore) };
  } finally {
    await server.cli(['SHUTDOWN', 'NOSAVE']);
    const exited = await Promise.race([child.then(() => true), new Promise<false>((resolve) => setTimeout(resolve, 10_000, false))]);
    if (!exited) child.kill('SIGKILL');
  }
}

/** The id of the container now holding a name (a new one after Compose recreated it). */
async function containerId(container: RedisContainer): Promise<string> {
  return (await dockerTry(['container', 'inspect', '--format', '{{.Id}}', container.name])).stdout.trim();
}

/** Runs the host switch, then restarts the server on its rewritten config file: every key is there, loaded from the AOF. */
async function verifyHostSwitch(ctx: VerifyContext): Promise<void> {
  const server = ctx.server;
  const { exitCode, stdout } = await ctx.run();
  assert.equal(exitCode, 0);
  assert.match(stdout, /^appendonly yes$/m, 'CONFIG REWRITE wrote the setting into the config file');
  checkSwitched(stdout, (await server.info('persistence')).persistence ?? {});
  // A write after the switch is in the AOF only (no save has run since).
  await server.cli(['SET', 'after:switch', 'in the AOF']);
  const expected = await server.withClient(readDataset);
  const { dataset, log } = await restartOnRewrittenConfig(server, ctx.engine.server);
  assert.match(log, /DB loaded from append only file/, 'the restart loaded the AOF');
  assert.deepEqual(diffDatasets(expected, dataset), [], 'every key survived the restart');
  ctx.note(`after a restart on the rewritten config file: ${dataset.size} of ${expected.size} keys, loaded from the AOF`);
}

/**
 * Runs the Docker switch, then does what the page asks next (`--appendonly yes` in the compose file's
 * `command:`, `docker compose up -d`): the new container loads the AOF and holds every key.
 */
async function verifyComposeSwitch(ctx: VerifyContext<ComposeRedis>): Promise<void> {
  const server = ctx.server;
  const { exitCode, stdout } = await ctx.run();
  assert.equal(exitCode, 0);
  checkSwitched(stdout, infoFields((await server.cli(['INFO', 'persistence'])).stdout));
  await server.cli(['SET', 'after:switch', 'in the AOF']);
  const expected = await server.withClient(readDataset);
  // What the page asks next: --appendonly yes in the compose file's command:, then docker compose up -d.
  const file = await readFile(server.composeFile, 'utf8');
  assert.ok(file.includes('"--appendonly", "no"'), 'the compose command sets appendonly no');
  await writeFile(server.composeFile, file.replace('"--appendonly", "no"', '"--appendonly", "yes"'));
  const before = await containerId(server);
  await server.up();
  assert.notEqual(await containerId(server), before, 'docker compose up -d created a new container');
  assert.match(await server.logs(), /DB loaded from append only file/, 'the new container loaded the AOF');
  await assertContainerHolds(server, expected, 'every key survived the new container');
}

export const switchToAofSnippets = [
  defineSnippet({
    id: 'switch-aof-config-trap',
    title: 'Drill: appendonly yes in the config file and a restart',
    page,
    flavors: drillFlavors({
      host: trapDrill,
      docker: dockerTrapDrill,
      check: checkTrap,
      hostVariants: [
        singleFileAofVariant('the same trap: it creates an empty appendonly.aof, starts with 0 keys, and its next save empties dump.rdb.'),
      ],
      async checkHost(ctx) {
        const dir = ctx.values.scratchDir ?? '';
        if (engineTraits(ctx.engine.id).aofLayout === 'file') {
          assert.equal((await stat(join(dir, 'appendonly.aof'))).size, 0, 'the AOF it created on start is empty');
          return;
        }
        const log = await readFile(join(dir, 'redis.log'), 'utf8');
        assert.match(log, /Creating AOF base file appendonly\.aof\.1\.base\.rdb on server start/);
      },
    }),
  }),
  defineSnippet({
    id: 'switch-aof-live',
    title: 'Switch the AOF on while the server runs',
    page,
    flavors: {
      host: {
        command: liveSwitch,
        variants: [
          engineVariant(
            (traits) => !traits.cliErrorExit,
            'its redis-cli has no -e (an error reply still exits 0), so each reply that must be OK goes through grep -x OK.',
            liveSwitchNoE,
          ),
        ],
        server: { config: { appendonly: 'no', save: seedServerConfig.save, ...slowRewrite } },
        setup: snapshotOnlyWithData,
        values: ({ server }) => ({ configFile: server.configFile }),
        verify: verifyHostSwitch,
      },
      docker: {
        command: dockerLiveSwitch,
        compose: true,
        server: { config: { ...seedServerConfig, appendonly: 'no', ...slowRewrite } },
        setup: snapshotOnlyWithData,
        timeoutMs: 120_000,
        verify: verifyComposeSwitch,
      },
    },
  }),
];

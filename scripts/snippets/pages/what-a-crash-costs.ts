import assert from 'node:assert/strict';
import { defineSnippet, dockerFlavor, hostFlavor, type VerifyContext } from '../schema.ts';
import { sameCheck } from '../same-check.ts';
import { practice, practiceValues, runPractice } from '../practice.ts';
import { dockerPractice, dockerPracticeValues, runDockerPractice } from '../docker-practice.ts';
import { configPairs, infoFields, labelledNumber, pipeSummary } from '../outputs.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { engineVariant } from '../variants.ts';
import type { WithClient } from '../scenarios/docker.ts';
import { powerCut, type PowerCutResult } from '../../harness/vm/power-cut.ts';
import { qemuVersion } from '../../harness/vm/machine.ts';
import { repeatUntil, waitWhile } from '../shell-wait.ts';

const page = 'persistence/what-a-crash-costs';

/**
 * A crash drill the reader can run on a practice server: start it with the persistence options
 * given, write, `kill -9` it, start it again on the same files and count the keys. `between` runs
 * between two batches of writes (e.g. a snapshot), so the drill can show what a snapshot keeps.
 */
function crashDrill(persistence: string, between?: { comment: string; command: string }): string {
  return [
    ...practice.setup(persistence),
    ...practice.start(),
    '# Write 50000 keys: every reply that comes back is an acknowledged write',
    ...practice.write(1, 50000),
    ...(between ? [`# ${between.comment}`, between.command, ...practice.write(50001, 100000)] : []),
    '# Crash the server (no shutdown, no final save), then start it on the same files',
    ...practice.kill(),
    ...practice.start(),
    ...practice.count(AFTER_KILL),
    ...practice.discard(),
  ].join('\n');
}

/** The label of the drill's count after the crash. */
const AFTER_KILL = 'keys after kill -9 and restart';
const AFTER_DOCKER_KILL = 'keys after docker kill and restart';

/**
 * The same drill in a practice container from the reader's image (docker-practice.ts): `docker kill`
 * is the crash (SIGKILL to Redis, as the OOM killer or a segfault would end it); `docker start` brings
 * it back on the same volume. The Compose project is never touched.
 */
function dockerCrashDrill(persistence: string, between?: { comment: string; command: string }): string {
  return [
    ...dockerPractice.setup(persistence),
    '# Write 50000 keys: every reply that comes back is an acknowledged write',
    ...dockerPractice.write(1, 50000),
    ...(between ? [`# ${between.comment}`, between.command, ...dockerPractice.write(50001, 100000)] : []),
    '# Crash it: docker kill sends SIGKILL (no shutdown, no final save); then start it on the same volume',
    ...dockerPractice.kill(),
    ...dockerPractice.start(),
    ...dockerPractice.count(AFTER_DOCKER_KILL),
    ...dockerPractice.discard(),
  ].join('\n');
}

/** What a drill printed: acknowledged writes (from the --pipe summaries) and the keys counted after the crash. */
function drillCounts(stdout: string, label: string): { acknowledged: number; survived: number } {
  const summaries = stdout
    .split('\n')
    .filter((line) => line.includes('replies:'))
    .map(pipeSummary);
  assert.ok(summaries.length > 0, 'redis-cli --pipe printed its summary');
  for (const summary of summaries) assert.equal(summary.errors, 0);
  const acknowledged = summaries.reduce((sum, summary) => sum + summary.replies, 0);
  return { acknowledged, survived: labelledNumber(stdout, label) };
}

/** Runs a Docker drill and returns acknowledged writes and the keys that survived. */
async function runDockerDrill(ctx: VerifyContext<unknown>): Promise<{ acknowledged: number; survived: number }> {
  const { exitCode, stdout } = await runDockerPractice(ctx);
  assert.equal(exitCode, 0);
  return drillCounts(stdout, AFTER_DOCKER_KILL);
}

/** Runs a drill and returns acknowledged writes and the keys that survived. */
async function runDrill(ctx: VerifyContext<unknown, 'scratchDir'>): Promise<{ acknowledged: number; survived: number }> {
  const { exitCode, stdout } = await runPractice(ctx);
  assert.equal(exitCode, 0);
  return drillCounts(stdout, AFTER_KILL);
}

/** The label of the stalled drill's count of acknowledged writes, and of the server's log lines about held-back writes. */
const ACKNOWLEDGED = 'acknowledged writes';
const HELD_BACK = 'times Redis logged it held AOF writes back';

/** How long the stalled drill holds each fsync: longer than the 2 s Redis waits before it writes anyway. */
const STALL_MICROSECONDS = 5_000_000;

/**
 * The AOF everysec drill on a disk that stalls: strace holds each fdatasync of the practice server
 * (the background fsync of the AOF) for 5 s before the kernel runs it, a real stall of the real
 * server as a busy or failing disk gives. While an fsync is still running Redis holds AOF writes
 * back in memory for up to 2 s and still replies; the drill writes until Redis reports one such
 * hold (aof_delayed_fsync), writes once more, and kills the server.
 */
function stalledFsyncDrill(): string {
  return [
    ...practice.setup('--appendonly yes --appendfsync everysec --save ""'),
    ...practice.start(),
    '# Stall the disk: strace holds every fdatasync of this server for 5 seconds before the kernel runs it',
    'pid=$(cat "$dir/redis.pid")',
    `strace -f -qq -o /dev/null -e trace=fdatasync -e inject=fdatasync:delay_enter=${STALL_MICROSECONDS} -p "$pid" 2>/dev/null &`,
    `for try in $(seq 100); do grep -Eq '^TracerPid:\\s+[1-9]' "/proc/$pid/status" && break; kill -0 $! 2>/dev/null || { echo "strace could not attach to $pid" >&2; exit 1; }; sleep 0.1; done`,
    '# Write batches of 10000 keys until Redis says it held writes back (aof_delayed_fsync; 100 batches at most), then one more',
    'acked=0; next=1',
    `batch() { acked=$((acked + $(seq "$next" $((next + 9999)) | sed 's/.*/SET key:& &/' | redis-cli -p "$port" --pipe | sed -n 's/.*replies: //p'))); next=$((next + 10000)); }`,
    repeatUntil(`redis-cli -p "$port" INFO persistence | grep -q '^aof_delayed_fsync:[1-9]'`, 'batch', 100),
    'batch',
    `echo "${ACKNOWLEDGED}: $acked"`,
    '# Crash it (strace ends with it), then start it on the same files without strace',
    'kill -9 "$pid"; wait',
    waitWhile('redis-cli -p "$port" PING >/dev/null 2>&1'),
    ...practice.start(),
    ...practice.count(AFTER_KILL),
    `echo "${HELD_BACK}: $(grep -c 'fsync is taking too long' "$dir/redis.log")"`,
    ...practice.discard(),
  ].join('\n');
}

/** What each appendfsync policy promises for a process crash: `everysec` may lose what it held back while an fsync ran. */
const processCrashLossAllowed: Record<'everysec' | 'always' | 'no', boolean> = { everysec: true, always: false, no: false };

/**
 * The flavors of the kill -9 drill of one appendfsync policy. `always` and `no` write() each command
 * before the reply, so nothing acknowledged may be lost; `everysec` usually loses nothing, but may
 * lose what it held back while an fsync was running (the stalled drill shows it), so its loss is
 * measured and shown rather than asserted to be zero.
 */
function aofCrashDrillFlavors(fsync: 'everysec' | 'always' | 'no') {
  const persistence = `--appendonly yes --appendfsync ${fsync} --save ""`;
  return crashDrillFlavors(crashDrill(persistence), dockerCrashDrill(persistence), (ctx, { acknowledged, survived }) => {
    assert.equal(acknowledged, 50000);
    assert.ok(survived <= acknowledged);
    if (!processCrashLossAllowed[fsync])
      assert.equal(survived, acknowledged, `a process crash loses no acknowledged write with appendfsync ${fsync}`);
    ctx.measure('lost', acknowledged - survived);
  });
}

/** What a drill counted: acknowledged writes and the keys that survived the crash. */
interface DrillCounts {
  acknowledged: number;
  survived: number;
}

/**
 * The two flavors of a crash drill: the host's practice server and the Docker practice container
 * run the same drill, and `check` judges what each counted.
 */
function crashDrillFlavors(
  host: string,
  docker: string,
  check: (ctx: Pick<VerifyContext<unknown>, 'measure'>, counts: DrillCounts) => void,
) {
  return {
    host: hostFlavor({
      command: host,
      server: false,
      values: practiceValues,
      verify: async (ctx) => {
        check(ctx, await runDrill(ctx));
      },
    }),
    docker: dockerFlavor({
      command: docker,
      server: false,
      values: dockerPracticeValues,
      verify: async (ctx) => {
        check(ctx, await runDockerDrill(ctx));
      },
    }),
  };
}

/**
 * How long the power-cut measurement writes before it kills the VM: long enough for several of
 * everysec's once-a-second fsyncs, far shorter than the 30 s (vm.dirty_expire_centisecs 3000) the
 * guest kernel lets written data wait in its page cache, so `no` shows what a cut costs when the
 * writes are younger than that.
 */
const POWER_CUT_WRITE_MS = 3_000;

/** The redis.conf the VM's Redis runs with (its own disk on /data; the VM's port reaches it from the host's loopback only). */
function powerCutConf(fsync: 'always' | 'everysec' | 'no'): string {
  return [
    "# The VM's redis.conf: Redis 7.0 on Debian bookworm, its data on an ext4 disk of its own",
    'port 6379',
    'bind 0.0.0.0',
    'protected-mode no',
    'dir /data',
    'appendonly yes',
    `appendfsync ${fsync}`,
    'save ""',
  ].join('\n');
}

/** The lines of a power-cut result for the block's recorded output: the counts, and what they were measured on. */
function powerCutNotes(ctx: { note(text: string): void }, result: PowerCutResult, qemu: string): void {
  ctx.note(`acknowledged writes: ${result.acknowledged} in ${(result.writeMs / 1000).toFixed(1)} s, then qemu killed (SIGKILL)`);
  ctx.note(`acknowledged writes found after the reboot: ${result.survived}`);
  ctx.note(
    `acknowledged writes lost: ${result.lost}${result.lost > 0 ? ` (those of the last ${result.lostWindowMs} ms before the cut)` : ''}`,
  );
  ctx.note(`writes sent but not yet acknowledged at the cut, found after the reboot: ${result.unacknowledgedFound}`);
  ctx.note(`guest: Linux ${result.guest.kernel}, ${result.guest.dataMount.replace(/ 0 0$/, '')}`);
  ctx.note(
    `guest: ${Object.entries(result.guest.sysctl)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')}`,
  );
  ctx.note(
    `host: ${qemu} (${result.accelerator}), data disk raw with cache=none; boot to PONG ${(result.bootMs / 1000).toFixed(1)} s, reboot ${(result.rebootMs / 1000).toFixed(1)} s`,
  );
}

/**
 * The host flavor of a power-cut measurement (scripts/harness/vm/power-cut.ts): Redis 7.0 in a VM
 * with `powerCutConf(fsync)`, writes for {@link POWER_CUT_WRITE_MS}, qemu killed, the VM booted again
 * on the same disk, the acknowledged keys counted. `expect` asserts what the policy promises.
 */
function powerCutFlavor(fsync: 'always' | 'everysec' | 'no', expect: (result: PowerCutResult) => void) {
  return {
    command: powerCutConf(fsync),
    lang: 'conf' as const,
    server: false as const,
    serial: true,
    timeoutMs: 600_000,
    async verify(ctx: VerifyContext<undefined>) {
      const result = await powerCut({
        conf: ctx.command,
        writeMs: POWER_CUT_WRITE_MS,
        dir: ctx.scratch,
        onReady: (port) => ctx.identify({ host: '127.0.0.1', port }),
      });
      powerCutNotes(ctx, result, await qemuVersion());
      assert.ok(result.acknowledged > 0, 'writes were acknowledged before the cut');
      assert.ok(result.survivorsArePrefix, 'the writes that survived are the first ones: the AOF replays in order up to where it ends');
      assert.ok(
        (result.guest.sysctl['vm.dirty_expire_centisecs'] ?? 0) * 10 > result.writeMs,
        'the writes were younger than the time the guest kernel lets written data wait in its cache',
      );
      expect(result);
      ctx.measure('acknowledged', result.acknowledged);
      ctx.measure('survived', result.survived);
      ctx.measure('lost', result.lost);
      ctx.measure('lostWindowMs', result.lostWindowMs);
      ctx.measure('writeMs', result.writeMs);
    },
  };
}

/** Fills the server until it refuses a write (`OOM command not allowed …`). */
async function fillUntilRefused(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    // Large values until one is refused, then values of the page's size until one of those is too.
    for (const [prefix, value] of [
      ['page', 'x'.repeat(10_000)],
      ['small', 'some-value'],
    ] as const) {
      for (let i = 0; ; i++) {
        try {
          await client.set(`${prefix}:${i}`, value);
        } catch (error) {
          if ((error as Error).message.startsWith('OOM ')) break;
          throw error;
        }
      }
    }
  });
}

/** Runs the page's SET on a full noeviction server and checks it was refused and nothing was evicted. */
async function checkRefused(
  ctx: { run(): Promise<{ exitCode: number; stdout: string }>; engine: { id: string }; measure(name: string, value: number): void },
  server: { cli(args: string[]): Promise<{ stdout: string }> },
): Promise<void> {
  // Every engine measured took some small writes after refusing a large one: the page shows how many.
  ctx.measure('smallWritesAfterOom', (await server.cli(['KEYS', 'small:*'])).stdout.trim().split('\n').filter(Boolean).length);
  const before = Number((await server.cli(['DBSIZE'])).stdout.trim());
  const { exitCode, stdout } = await ctx.run();
  assert.equal(exitCode, 0, 'redis-cli exits 0 even when the server answers with an error');
  assert.match(stdout, /^OOM command not allowed when used memory > 'maxmemory'\.$/m);
  assert.equal((await server.cli(['EXISTS', 'one-more-key'])).stdout.trim(), '0', 'the write was refused');
  assert.equal(Number((await server.cli(['DBSIZE'])).stdout.trim()), before, 'nothing was evicted');
  assert.equal((await server.cli(['GET', 'page:0'])).stdout.trim().length, 10_000, 'the oldest key is still there');
  assert.equal(infoFields((await server.cli(['INFO', 'stats'])).stdout).evicted_keys, '0');
}

export const crashLossSnippets = [
  defineSnippet({
    id: 'durability-settings',
    title: 'Read the settings that decide what a crash costs',
    page,
    flavors: sameCheck(
      {
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.deepEqual(configPairs(stdout), {
            appendonly: 'yes',
            appendfsync: 'everysec',
            save: seedSaveRules,
            maxmemory: String(24 * 1024 ** 3),
            'maxmemory-policy': 'noeviction',
          });
        },
      },
      {
        host: {
          command: 'redis-cli -h {{host}} -p {{port}} CONFIG GET appendonly appendfsync save maxmemory maxmemory-policy',
          variants: [
            engineVariant(
              (traits) => !traits.configGetMany,
              'CONFIG GET takes one name at a time: ask for each.',
              'for name in appendonly appendfsync save maxmemory maxmemory-policy; do redis-cli -h {{host}} -p {{port}} CONFIG GET "$name"; done',
            ),
          ],
          server: {
            // One save line per rule, as redis.conf writes them (Redis 6.0 ignores a line of several).
            config: {
              save: seedServerConfig.save,
              appendonly: 'yes',
              appendfsync: 'everysec',
              maxmemory: '24gb',
              'maxmemory-policy': 'noeviction',
            },
          },
        },
        docker: {
          command: 'docker exec {{container}} redis-cli CONFIG GET appendonly appendfsync save maxmemory maxmemory-policy',
          server: { config: seedServerConfig },
        },
      },
    ),
  }),
  defineSnippet({
    id: 'crash-drill-aof-everysec',
    title: 'Crash drill: AOF with fsync every second',
    page,
    flavors: aofCrashDrillFlavors('everysec'),
  }),
  defineSnippet({
    id: 'crash-drill-aof-always',
    title: 'Crash drill: AOF with fsync on every write',
    page,
    flavors: aofCrashDrillFlavors('always'),
  }),
  defineSnippet({
    id: 'crash-drill-aof-no',
    title: 'Crash drill: AOF with fsync left to the kernel',
    page,
    flavors: aofCrashDrillFlavors('no'),
  }),
  defineSnippet({
    id: 'crash-drill-aof-everysec-stalled',
    title: 'Crash drill: AOF every second on a disk that stalls',
    page,
    flavors: {
      host: {
        command: stalledFsyncDrill(),
        server: false,
        values: practiceValues,
        timeoutMs: 90_000,
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx, 80_000);
          assert.equal(exitCode, 0);
          const acknowledged = labelledNumber(stdout, ACKNOWLEDGED);
          const survived = labelledNumber(stdout, AFTER_KILL);
          assert.ok(acknowledged >= 20_000, `at least two batches were acknowledged (${acknowledged})`);
          assert.ok(
            survived < acknowledged,
            `kill -9 during a stalled fsync loses acknowledged writes (${survived} of ${acknowledged} came back)`,
          );
          assert.ok(survived > 0, 'the writes made before the stall are there');
          assert.ok(labelledNumber(stdout, HELD_BACK) >= 1, 'Redis logged that it held writes back');
          ctx.measure('acknowledged', acknowledged);
          ctx.measure('lost', acknowledged - survived);
        },
      },
    },
  }),
  defineSnippet({
    id: 'power-cut-aof-always',
    title: 'Power cut in a VM: AOF with fsync on every write',
    page,
    engines: ['redis-7.0'],
    flavors: {
      host: powerCutFlavor('always', (result) => {
        assert.equal(result.lost, 0, 'with appendfsync always a power cut loses no acknowledged write');
      }),
    },
  }),
  defineSnippet({
    id: 'power-cut-aof-everysec',
    title: 'Power cut in a VM: AOF with fsync every second',
    page,
    engines: ['redis-7.0'],
    flavors: {
      host: powerCutFlavor('everysec', (result) => {
        assert.ok(
          result.lostWindowMs <= 2_500,
          `with everysec a power cut loses at most about the last 2 s of writes (lost ${result.lostWindowMs} ms)`,
        );
      }),
    },
  }),
  defineSnippet({
    id: 'power-cut-aof-no',
    title: 'Power cut in a VM: AOF with fsync left to the kernel',
    page,
    engines: ['redis-7.0'],
    flavors: {
      host: powerCutFlavor('no', (result) => {
        assert.ok(result.lost > 0, 'with appendfsync no a power cut loses the acknowledged writes still in the kernel cache');
      }),
    },
  }),
  defineSnippet({
    id: 'crash-drill-rdb-only',
    title: 'Crash drill: snapshots only',
    page,
    flavors: crashDrillFlavors(
      crashDrill(`--appendonly no --save "${seedSaveRules}"`, {
        comment: 'Take a snapshot now (as your save rules would), then write 50000 more keys',
        command: 'redis-cli -p "$port" SAVE',
      }),
      dockerCrashDrill(`--appendonly no --save "${seedSaveRules}"`, {
        comment: 'Take a snapshot now (as your save rules would), then write 50000 more keys',
        command: 'docker exec "$c" redis-cli SAVE',
      }),
      (_ctx, { acknowledged, survived }) => {
        assert.equal(acknowledged, 100000);
        assert.equal(survived, 50000, 'only the keys of the last snapshot come back');
      },
    ),
  }),
  defineSnippet({
    id: 'crash-drill-no-persistence',
    title: 'Crash drill: no persistence',
    page,
    flavors: crashDrillFlavors(
      crashDrill('--appendonly no --save ""'),
      dockerCrashDrill('--appendonly no --save ""'),
      (_ctx, { acknowledged, survived }) => {
        assert.equal(acknowledged, 50000);
        assert.equal(survived, 0, 'without persistence a restart starts empty');
      },
    ),
  }),
  defineSnippet({
    id: 'memory-limit-status',
    title: 'Check memory use against the limit',
    page,
    flavors: sameCheck(
      {
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const fields = infoFields(stdout);
          assert.equal(fields.maxmemory_human, '24.00G');
          assert.equal(fields.maxmemory_policy, 'noeviction');
          assert.equal(fields.evicted_keys, '0');
          assert.match(fields.used_memory_human ?? '', /^\d+(\.\d+)?[BKMG]$/);
        },
      },
      {
        host: {
          command: "redis-cli -h {{host}} -p {{port}} INFO | grep -E '^(used_memory_human|maxmemory_human|maxmemory_policy|evicted_keys):'",
          server: { config: { maxmemory: '24gb', 'maxmemory-policy': 'noeviction' } },
        },
        docker: {
          command:
            "docker exec {{container}} redis-cli INFO | grep -E '^(used_memory_human|maxmemory_human|maxmemory_policy|evicted_keys):'",
          server: { config: seedServerConfig },
        },
      },
    ),
  }),
  defineSnippet({
    id: 'noeviction-write-refused',
    title: 'What a write gets when memory is full under noeviction',
    page,
    flavors: sameCheck(
      {
        config: { maxmemory: '4mb', 'maxmemory-policy': 'noeviction', save: '""' },
        setup: fillUntilRefused,
        verify: (ctx) => checkRefused(ctx, ctx.server),
      },
      {
        host: 'redis-cli -h {{host}} -p {{port}} SET one-more-key some-value',
        docker: 'docker exec {{container}} redis-cli SET one-more-key some-value',
      },
    ),
  }),
];

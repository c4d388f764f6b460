import assert from 'node:assert/strict';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { practice, practiceValues, runPractice, saveOptions } from '../practice.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { replacedEach, singleFileAofVariant } from '../variants.ts';
import { defineSnippet } from '../schema.ts';
import { drillFlavors } from '../drill.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import { dockerPractice } from '../docker-practice.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { shScript } from './rollback.docker.ts';
import { waitUntil } from '../shell-wait.ts';

/** The log lines that tell which file a start loaded (and that it is ready). */
const loadLines = 'Loading RDB|DB loaded from|Done loading RDB|Creating AOF base file|Ready to accept connections';

const page = 'recovery/automatic-recovery';

const AFTER_EMPTY_START = 'keys after a start without the AOF directory';
/** The same count where the AOF is one file (Redis 6.0). */
const AFTER_EMPTY_START_FILE = 'keys after a start without appendonly.aof';
/** What a start without its AOF leaves where the AOF is one file: a new, empty appendonly.aof (its log says nothing). */
const EMPTY_AOF_LEFT = 'appendonly.aof after that start';
const AFTER_RESCUE = 'keys after the rescue';
/** The log line of a start that found no AOF and made a new, empty one (a grep pattern). */
const CREATED_BASE = 'Creating AOF base file.*';

/** A line printing `<label>: N keys read` for an RDB file on the host (redis-check-rdb counts its keys). */
const rdbKeys = (label: string, file: string) => `echo "${label}: $(redis-check-rdb ${file} | grep -o '[0-9]* keys read')"`;

/** The same for an RDB file in the practice volume, read by a throwaway container of the image. */
const dockerRdbKeys = (label: string, file: string) =>
  `echo "${label}: $(docker run --rm -v "$v":/data {{image}} redis-check-rdb ${file} | grep -o '[0-9]* keys read')"`;

/**
 * Commands that install the snapshot `rdb` (a file in `dir`: `.`, or a shell variable's value, quoted
 * here) as dump.rdb and as the base of a new, one-file AOF set in `dir`, as the rollback page's
 * offline procedure does.
 */
function installAsAofBase(dir: string, rdb: string): string[] {
  const at = (name: string) => (dir === '.' ? name : `"${dir}/${name}"`);
  return [
    `mkdir ${at('appendonlydir')}`,
    `cp -p ${at(rdb)} ${at('appendonlydir/appendonly.aof.1.base.rdb')}`,
    `echo "file appendonly.aof.1.base.rdb seq 1 type b" > ${at('appendonlydir/appendonly.aof.manifest')}`,
    `cp -p ${at(rdb)} ${at('dump.rdb')}`,
  ];
}

/** The trap on a practice server: 50000 keys, a clean stop, the AOF directory goes missing, an empty start. */
const trapOnPractice = [
  ...practice.setup(`--appendonly yes ${saveOptions(seedSaveRules)}`),
  ...practice.start(),
  ...practice.write(1, 50000),
  ...practice.stop(),
  rdbKeys('dump.rdb holds', '"$dir/dump.rdb"'),
  '# The AOF directory goes missing (a restore that only copied dump.rdb, a volume mounted wrong, ...)',
  'mv "$dir/appendonlydir" "$dir/appendonlydir.moved-away"',
  ...practice.start(),
  ...practice.count(AFTER_EMPTY_START),
];

/** The same trap in a practice container of the image. */
const trapOnDockerPractice = [
  ...dockerPractice.setup(`--appendonly yes --save "${seedSaveRules}"`),
  ...dockerPractice.write(1, 50000),
  ...dockerPractice.stop(),
  dockerRdbKeys('dump.rdb holds', '/data/dump.rdb'),
  '# The AOF directory goes missing (a restore that only copied dump.rdb, a volume mounted wrong, ...)',
  ...dockerPractice.onVolume('mv /data/appendonlydir /data/appendonlydir.moved-away'),
  ...dockerPractice.start(),
  ...dockerPractice.count(AFTER_EMPTY_START),
];

/**
 * The trap where the AOF is one file (Redis 6.0): appendonly.aof goes missing instead of the dir.
 * Measured on 6.0.16: the start loads nothing (no fallback to dump.rdb either), creates an empty
 * appendonly.aof and logs no line about it.
 */
const toSingleFile: [string, string][] = [
  ['# The AOF directory goes missing', '# appendonly.aof goes missing'],
  ['mv "$dir/appendonlydir" "$dir/appendonlydir.moved-away"', 'mv "$dir/appendonly.aof" "$dir/appendonly.aof.moved-away"'],
  [AFTER_EMPTY_START, AFTER_EMPTY_START_FILE],
];

/** The trap printed a full dump.rdb, then an empty start that created a new AOF base (Redis 6.0: a new, empty appendonly.aof). */
function checkTrap(stdout: string, engineId: string): void {
  assert.match(stdout, /dump\.rdb holds: 50000 keys read/);
  if (engineTraits(engineId).aofLayout === 'file') {
    assert.equal(labelledNumber(stdout, AFTER_EMPTY_START_FILE), 0, 'no fallback to dump.rdb');
    assert.match(stdout, new RegExp(`^${EMPTY_AOF_LEFT}: 0 bytes$`, 'm'));
    return;
  }
  assert.equal(labelledNumber(stdout, AFTER_EMPTY_START), 0, 'no fallback to dump.rdb');
  assert.match(stdout, /Creating AOF base file appendonly\.aof\.1\.base\.rdb on server start/);
}

/** The rescue kept dump.rdb whole through the stop and brought every key back. */
function checkRescue(stdout: string, engineId: string): void {
  assert.match(stdout, /dump\.rdb holds: 50000 keys read/);
  assert.equal(
    labelledNumber(stdout, engineTraits(engineId).aofLayout === 'file' ? AFTER_EMPTY_START_FILE : AFTER_EMPTY_START),
    0,
    'the trap: an empty start',
  );
  assert.match(stdout, /the copy holds: 50000 keys read/);
  assert.match(stdout, /dump\.rdb after the stop holds: 50000 keys read/, 'the stop with save "" did not write the empty dataset');
  assert.equal(labelledNumber(stdout, AFTER_RESCUE), 50000, 'every key is back');
}

/** The trap drill on a practice server, with the log line of the empty start. */
const trapDrillHost = [...trapOnPractice, `grep -o '${CREATED_BASE}' "$dir/redis.log"`, ...practice.discard()].join('\n');

/** The rescue on a practice server: keep dump.rdb whole, stop without saving, install the copy as the AOF base, start. */
const rescueHost = [
  ...trapOnPractice,
  '# The rescue. 1. Before anything else, copy dump.rdb aside: it holds the data until the next save',
  'cp -p "$dir/dump.rdb" "$dir/dump.rdb.rescue"',
  rdbKeys('the copy holds', '"$dir/dump.rdb.rescue"'),
  '# 2. Save rules off, so the stop cannot write the empty dataset over dump.rdb; then stop',
  'redis-cli -p "$port" CONFIG SET save ""',
  ...practice.stop(),
  rdbKeys('dump.rdb after the stop holds', '"$dir/dump.rdb"'),
  '# 3. The copy becomes dump.rdb and the base of a new AOF set; the empty AOF set goes aside',
  'mv "$dir/appendonlydir" "$dir/appendonlydir.empty-start"',
  ...installAsAofBase('$dir', 'dump.rdb.rescue'),
  '# 4. Start it as usual',
  ...practice.start(),
  ...practice.count(AFTER_RESCUE),
  ...practice.discard(),
].join('\n');

export const automaticRecoverySnippets = [
  defineSnippet({
    id: 'startup-log-lines',
    title: 'See what the server loaded at start',
    page,
    flavors: {
      host: {
        command: `grep -E '${loadLines}' {{logFile}} | tail -n 5`,
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        async setup(server) {
          await server.withClient((client) => client.set('survives', 'a restart'));
          await server.stop();
          await server.start();
        },
        values: ({ server }) => ({ logFile: server.logFile }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /DB loaded from append only file/);
          assert.match(stdout, /Ready to accept connections/);
          assert.doesNotMatch(stdout.split('\n').slice(-3).join('\n'), /Creating AOF base file/, 'the last start found its AOF');
        },
      },
      docker: {
        // Redis in a container logs to stdout: Compose keeps it, across restarts, until the container is removed.
        command: `docker compose logs --no-color {{service}} | grep -E '${loadLines}' | tail -n 5`,
        compose: true,
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient((client) => client.set('survives', 'a restart'));
          await server.stop();
          await server.start();
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const lines = stdout.trim().split('\n');
          assert.equal(lines.length, 5);
          for (const line of lines) assert.match(line, new RegExp(`^${ctx.values.container} +\\| `), 'each line names the container');
          assert.match(stdout, /DB loaded from append only file/);
          assert.match(lines.at(-1) ?? '', /Ready to accept connections/);
          assert.doesNotMatch(lines.slice(-3).join('\n'), /Creating AOF base file/, 'the last start found its AOF');
          assert.equal((await ctx.server.cli(['GET', 'survives'])).stdout.trim(), 'a restart');
        },
      },
    },
  }),
  defineSnippet({
    id: 'recovery-clean-restart-drill',
    title: 'Drill: restart after a clean stop',
    page,
    flavors: {
      host: {
        command: [
          ...practice.setup(`--appendonly yes ${saveOptions(seedSaveRules)}`),
          ...practice.start(),
          ...practice.write(1, 50000),
          '# A clean stop (what systemctl stop and docker compose stop do: SIGTERM, then a final write)',
          ...practice.stop(),
          ...practice.start(),
          ...practice.count('keys after a clean stop and start'),
          'grep -oE \'DB loaded from [a-z ]+\' "$dir/redis.log" | tail -n 1',
          ...practice.discard(),
        ].join('\n'),
        server: false,
        values: practiceValues,
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx);
          assert.equal(exitCode, 0);
          assert.equal(pipeSummary(stdout).replies, 50000);
          assert.equal(labelledNumber(stdout, 'keys after a clean stop and start'), 50000);
          assert.match(stdout, /DB loaded from append only file/);
        },
      },
      docker: {
        // Your own service this time: a restart, as after a reboot or a deploy.
        command: [
          'echo "keys before: $(docker exec {{container}} redis-cli DBSIZE)"',
          '# A clean stop: SIGTERM, Redis writes the AOF (and a snapshot, with save rules) and exits',
          'docker compose stop {{service}}',
          'docker compose up -d {{service}}',
          waitUntil('docker exec {{container}} redis-cli PING 2>/dev/null | grep -q PONG'),
          'echo "keys after a clean stop and start: $(docker exec {{container}} redis-cli DBSIZE)"',
          "docker compose logs --no-color {{service}} | grep -oE 'DB loaded from [a-z ]+' | tail -n 1",
        ].join('\n'),
        compose: true,
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient(async (client) => {
            const pipeline = client.pipeline();
            for (let i = 1; i <= 50000; i++) pipeline.set(`key:${i}`, String(i));
            await pipeline.exec();
          });
        },
        timeoutMs: 120_000,
        async verify(ctx) {
          const startedAt = () =>
            dockerTry(['container', 'inspect', '--format', '{{.State.StartedAt}}', ctx.values.container]).then((r) => r.stdout.trim());
          const before = await startedAt();
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.notEqual(await startedAt(), before, 'the container was stopped and started again');
          assert.equal(labelledNumber(stdout, 'keys before'), 50000);
          assert.equal(labelledNumber(stdout, 'keys after a clean stop and start'), 50000);
          assert.match(stdout, /DB loaded from append only file/);
        },
      },
    },
  }),
  defineSnippet({
    id: 'recovery-aof-dir-missing-drill',
    title: 'Drill: appendonly yes and the AOF directory is gone',
    page,
    flavors: drillFlavors({
      host: trapDrillHost,
      hostVariants: [
        singleFileAofVariant(
          'its AOF is one file, so the trap is appendonly.aof missing: the start is just as empty, and its log says nothing about it.',
          replacedEach(trapDrillHost, [
            ...toSingleFile,
            [`grep -o '${CREATED_BASE}' "$dir/redis.log"`, `echo "${EMPTY_AOF_LEFT}: $(stat -c %s "$dir/appendonly.aof") bytes"`],
          ]),
        ),
      ],
      docker: [...trapOnDockerPractice, `docker logs "$c" 2>&1 | grep -o '${CREATED_BASE}'`, ...dockerPractice.discard()].join('\n'),
      check: checkTrap,
    }),
  }),
  defineSnippet({
    id: 'recovery-aof-dir-missing-rescue',
    title: 'Drill: get the data back after an empty start',
    page,
    flavors: drillFlavors({
      host: rescueHost,
      hostVariants: [
        singleFileAofVariant(
          'its AOF is one file: when appendonly.aof is missing, the rescue makes the copy of dump.rdb the whole new appendonly.aof.',
          replacedEach(rescueHost, [
            ...toSingleFile,
            [
              'and the base of a new AOF set; the empty AOF set goes aside',
              'and, as it is, appendonly.aof (an AOF may start with a snapshot); the empty one goes aside',
            ],
            ['mv "$dir/appendonlydir" "$dir/appendonlydir.empty-start"', 'mv "$dir/appendonly.aof" "$dir/appendonly.aof.empty-start"'],
            [
              installAsAofBase('$dir', 'dump.rdb.rescue').join('\n'),
              ['cp -p "$dir/dump.rdb.rescue" "$dir/appendonly.aof"', 'cp -p "$dir/dump.rdb.rescue" "$dir/dump.rdb"'].join('\n'),
            ],
          ]),
        ),
      ],
      docker: [
        ...trapOnDockerPractice,
        '# The rescue. 1. Before anything else, copy dump.rdb aside: it holds the data until the next save',
        ...dockerPractice.onVolume('cp -p /data/dump.rdb /data/dump.rdb.rescue'),
        dockerRdbKeys('the copy holds', '/data/dump.rdb.rescue'),
        '# 2. Save rules off, so the stop (docker compose stop too) cannot write the empty dataset over dump.rdb',
        'docker exec "$c" redis-cli CONFIG SET save ""',
        ...dockerPractice.stop(),
        dockerRdbKeys('dump.rdb after the stop holds', '/data/dump.rdb'),
        '# 3. The copy becomes dump.rdb and the base of a new AOF set (owned by the owner of /data); the empty set goes aside',
        'docker run --rm -v "$v":/data {{image}} sh -ec \'',
        `${shScript(['cd /data', 'mv appendonlydir appendonlydir.empty-start', ...installAsAofBase('.', 'dump.rdb.rescue'), 'chown -R "$(stat -c %u:%g .)" appendonlydir dump.rdb'])}'`,
        '# 4. Start it as usual',
        ...dockerPractice.start(),
        ...dockerPractice.count(AFTER_RESCUE),
        ...dockerPractice.discard(),
      ].join('\n'),
      check: checkRescue,
    }),
  }),
];

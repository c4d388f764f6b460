import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeSummary } from '../outputs.ts';
import { practice } from '../practice.ts';
import { drillFlavors } from '../drill.ts';
import { sameCheck } from '../same-check.ts';
import { defineSnippet, type ServerUnderTest, type ValuesFn, type VerifyContext } from '../schema.ts';
import { cutShort, writeUsers } from '../scenarios/damaged-files.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { parseAofManifest } from '../../redis/aof.ts';
import { checkAof } from '../../redis/rdb.ts';
import { dockerPractice, dockerPracticeValues } from '../docker-practice.ts';
import type { WithClient } from '../scenarios/docker.ts';
import { lastIncrLine, lastIncrVariant, replaced, replacedEach, singleFileAofVariant } from '../variants.ts';

const page = 'operations/integrity';

/** `SET user:N name-N` for N in 1..count through redis-cli --pipe on the practice server. */
const writeUsersLine = (count: number) => `seq 1 ${count} | sed 's/.*/SET user:& name-&/' | redis-cli -p "$port" --pipe | tail -n 1`;

/** redis-check-rdb on a good file, a file cut short and a file with one byte changed, on a practice server's snapshot. */
const rdbDrill = [
  ...practice.setup('--appendonly no --save ""'),
  ...practice.start(),
  writeUsersLine(1000),
  'redis-cli -p "$port" SAVE',
  ...practice.discard(),
  'cd "$dir"',
  '# Cut short, as an interrupted copy or a full disk leaves it: the last 100 bytes are missing',
  'head -c -100 dump.rdb > truncated.rdb',
  '# One byte changed, as a bad disk or bad RAM does it: "name-500" becomes "Name-500"',
  'cp dump.rdb flipped.rdb',
  'printf N | dd of=flipped.rdb bs=1 seek="$(grep -obUa \'name-500\' flipped.rdb | cut -d: -f1)" conv=notrunc status=none',
  'for f in dump.rdb truncated.rdb flipped.rdb; do',
  '  redis-check-rdb "$f" > "$f.check"',
  '  echo "$f: exit $?, $(grep -oE \'RDB looks OK|Unexpected EOF[a-zA-Z ]*|RDB CRC error\' "$f.check")"',
  'done',
].join('\n');

/** redis-check-aof --fix on a copy, then what it cut: bytes and commands of each file that changed. */
const fixCopy = [
  '( set -e',
  'cd {{dataDir}}',
  '# 1. Work on a copy: --fix rewrites the file it repairs and keeps nothing of what it cuts',
  '[ ! -e appendonlydir.fix ] || { echo "appendonlydir.fix exists: move it away first" >&2; exit 1; }',
  'cp -a appendonlydir appendonlydir.fix',
  '# 2. Answer its "Continue? [y/N]" with y: it cuts the damaged file after its last whole command',
  "printf 'y\\n' | redis-check-aof --fix appendonlydir.fix/appendonly.aof.manifest | tail -n 3",
  '# 3. What the copy lost: each file that changed, in bytes and in commands (lines starting with *)',
  'for f in appendonlydir/*; do',
  '  name=${f#appendonlydir/}; fixed=appendonlydir.fix/$name',
  '  cmp -s "$f" "$fixed" || echo "$name: $(stat -c %s "$f") -> $(stat -c %s "$fixed") bytes, $(grep -ac \'^\\*\' "$f") -> $(grep -ac \'^\\*\' "$fixed") commands"',
  'done )',
].join('\n');

/** The same repair where the checker misreads the RDB base (Valkey 9.1): --fix on the last incr file itself. */
const fixCopyIncr = replaced(
  fixCopy,
  "printf 'y\\n' | redis-check-aof --fix appendonlydir.fix/appendonly.aof.manifest | tail -n 3",
  [
    lastIncrLine('appendonlydir/appendonly.aof.manifest'),
    'printf \'y\\n\' | redis-check-aof --fix "appendonlydir.fix/$incr" | tail -n 3',
  ].join('\n'),
);

/** The same repair of Redis 6.0's one-file AOF: a copy of appendonly.aof, --fix on it, what it lost. */
const fixCopySingleFile = replacedEach(fixCopy, [
  ['appendonlydir.fix', 'appendonly.aof.fix'],
  ['cp -a appendonlydir ', 'cp -a appendonly.aof '],
  ['--fix appendonly.aof.fix/appendonly.aof.manifest', '--fix appendonly.aof.fix'],
  ['each file that changed', 'the file, if it changed'],
  [
    'for f in appendonlydir/*; do\n  name=${f#appendonlydir/}; fixed=appendonly.aof.fix/$name\n  ',
    'f=appendonly.aof fixed=appendonly.aof.fix\n',
  ],
  ['echo "$name: ', 'echo "$f: '],
  ['commands"\ndone )', 'commands" )'],
]);

/** --fix on three damaged copies of a practice server's AOF: what it keeps, and what it cannot see. */
/**
 * The fix drill's three damaged copies of the AOF set in the current dir (cut short, broken early, a
 * value changed), each checked and repaired by `checkAof` (the engine's redis-check-aof, or the image's
 * through a throwaway container), printing what --fix leaves of each.
 */
const damagedCopies = (checkAof: string) => [
  'incr=$(cd appendonlydir && ls *.incr.aof)',
  '# Copy 1: the last write cut short (the server or the machine died while writing it)',
  'cp -a appendonlydir cut-short && truncate -s -5 "cut-short/$incr"',
  '# Copy 2: one byte broken near the start: the first byte of the second SET',
  'cp -a appendonlydir damaged-early',
  'printf \'!\' | dd of="damaged-early/$incr" bs=1 seek="$(grep -obUa \'^\\*3\' "damaged-early/$incr" | sed -n 2p | cut -d: -f1)" conv=notrunc status=none',
  '# Copy 3: one byte of a value changed: "name-7" becomes "Name-7"',
  'cp -a appendonlydir value-changed && sed -i \'s/name-7/Name-7/\' "value-changed/$incr"',
  'total=$(grep -ac \'^\\*\' "appendonlydir/$incr")',
  'for copy in cut-short damaged-early value-changed; do',
  `  ${checkAof} "$copy/appendonly.aof.manifest" >/dev/null; check=$?`,
  `  printf 'y\\n' | ${checkAof} --fix "$copy/appendonly.aof.manifest" >/dev/null`,
  '  echo "$copy: redis-check-aof exit $check; after --fix, $(grep -ac \'^\\*\' "$copy/$incr") of $total commands are left"',
  'done',
];

const fixDrill = [
  ...practice.setup('--appendonly yes --save ""'),
  ...practice.start(),
  writeUsersLine(20),
  ...practice.stop(),
  'cd "$dir"',
  ...damagedCopies('redis-check-aof'),
  '# Start on copy 3: Redis loads the changed value without a word',
  'mv appendonlydir appendonlydir.orig && cp -a value-changed appendonlydir',
  ...practice.start(),
  'echo "user:7 = $(redis-cli -p "$port" GET user:7)"',
  ...practice.discard(),
].join('\n');

/** The drill where the checker misreads the RDB base (Valkey 9.1): each copy's incr file checked and cut by itself. */
const incrOnly = (text: string) => replaced(text, '"$copy/appendonly.aof.manifest"', '"$copy/$incr"');
const fixDrillIncr = incrOnly(fixDrill);

/** The drill on Redis 6.0's one-file AOF: each copy a folder holding its appendonly.aof. */
const fixDrillSingleFile = replacedEach(incrOnly(fixDrill), [
  ['incr=$(cd appendonlydir && ls *.incr.aof)', 'aof=appendonly.aof'],
  ['cp -a appendonlydir cut-short', 'mkdir cut-short && cp -a "$incr" cut-short/'],
  ['cp -a appendonlydir damaged-early', 'mkdir damaged-early && cp -a "$incr" damaged-early/'],
  ['cp -a appendonlydir value-changed', 'mkdir value-changed && cp -a "$incr" value-changed/'],
  ['"appendonlydir/$incr"', '"$incr"'],
  ['mv appendonlydir appendonlydir.orig && cp -a value-changed appendonlydir', 'mv "$incr" "$incr.orig" && cp -a "value-changed/$incr" .'],
  ['$incr', '$aof'],
]);

/** Redis 6.0's AOF is one file: the command for it, and why. */
const singleFile = (command: string) =>
  singleFileAofVariant('its AOF is one file, appendonly.aof in the data dir (no appendonlydir, no manifest): work on that file.', command);

/** `SET user:N name-N` for N in 1..count through redis-cli --pipe in the practice container. */
const dockerWriteUsersLine = (count: number) =>
  `seq 1 ${count} | sed 's/.*/SET user:& name-&/' | docker exec -i "$c" redis-cli --pipe | tail -n 1`;

/** The practice container's files are copied to this empty directory on the host, damaged and checked there. */
const toCopiesDir = ['# Copies on this machine, in an empty directory', 'mkdir -p {{scratchDir}} && cd {{scratchDir}}'];

/**
 * The redis-check-rdb drill under Docker: a practice container of your image writes the snapshot,
 * `docker cp` brings it to the host (the image has no tools to damage a file precisely), and the
 * image's own redis-check-rdb checks each copy in a throwaway container with the dir mounted read-only.
 */
const rdbDrillDocker = [
  ...dockerPractice.setup('--appendonly no --save ""'),
  dockerWriteUsersLine(1000),
  'docker exec "$c" redis-cli SAVE',
  ...toCopiesDir,
  'docker cp -q "$c":/data/dump.rdb dump.rdb',
  ...dockerPractice.discard(),
  '# Cut short, as an interrupted copy or a full disk leaves it: the last 100 bytes are missing',
  'head -c -100 dump.rdb > truncated.rdb',
  '# One byte changed, as a bad disk or bad RAM does it: "name-500" becomes "Name-500"',
  'cp dump.rdb flipped.rdb',
  'printf N | dd of=flipped.rdb bs=1 seek="$(grep -obUa \'name-500\' flipped.rdb | cut -d: -f1)" conv=notrunc status=none',
  "# The image's redis-check-rdb, in a throwaway container with this directory mounted read-only",
  'for f in dump.rdb truncated.rdb flipped.rdb; do',
  '  docker run --rm --network none -v "$PWD":/check:ro {{image}} redis-check-rdb "/check/$f" > "$f.check"',
  '  echo "$f: exit $?, $(grep -oE \'RDB looks OK|Unexpected EOF[a-zA-Z ]*|RDB CRC error\' "$f.check")"',
  'done',
].join('\n');

/**
 * The repair of a copy under Docker: with Redis stopped (`docker compose stop redis`), a throwaway
 * container on the volume runs the same script as on a host (the image's sh, cp, cmp, stat, grep).
 */
const inThrowawayContainer = (script: string) =>
  [
    "docker run --rm -i --network none -v {{volume}}:/data {{image}} sh -s <<'EOF'",
    'set -e',
    'cd /data',
    ...script.split('\n').slice(2, -1),
    'done',
    'EOF',
  ].join('\n');
const fixCopyDocker = inThrowawayContainer(fixCopy);
const fixCopyIncrDocker = inThrowawayContainer(fixCopyIncr);

/** The --fix drill under Docker: the AOF of a practice container, damaged on the host, checked and fixed by the image's redis-check-aof. */
const fixDrillDocker = [
  ...dockerPractice.setup('--appendonly yes --save ""'),
  dockerWriteUsersLine(20),
  ...dockerPractice.stop(),
  ...toCopiesDir,
  'docker cp -q "$c":/data/appendonlydir appendonlydir',
  "# The image's redis-check-aof, in a throwaway container on this directory",
  'check_aof() { docker run --rm -i --network none -v "$PWD":/work -w /work {{image}} redis-check-aof "$@"; }',
  ...damagedCopies('check_aof'),
  '# Put copy 3 into the practice volume and start the container: Redis loads the changed value without a word',
  'docker run --rm --network none -v "$v":/data -v "$PWD/value-changed":/copy:ro {{image}} sh -c \'cp /copy/* /data/appendonlydir/\'',
  ...dockerPractice.start(),
  'echo "user:7 = $(docker exec "$c" redis-cli GET user:7)"',
  ...dockerPractice.discard(),
].join('\n');

const fixDrillIncrDocker = incrOnly(fixDrillDocker);

/** A unique practice project and a dir in scratch for the copies. */
const dockerDrillValues: ValuesFn<unknown, { project: string; scratchDir: string }> = async (ctx) => ({
  ...(await dockerPracticeValues(ctx)),
  scratchDir: join(ctx.scratch, 'copies'),
});

/** The file of the AOF that takes writes, under the data dir: Redis 6.0's one file, else the set's last incr file (from its manifest). */
async function lastAofIn(server: ServerUnderTest): Promise<string> {
  if (engineTraits(server.engine.id).aofLayout === 'file') return 'appendonly.aof';
  const entries = parseAofManifest((await server.readDataFile('appendonlydir/appendonly.aof.manifest')).toString('utf8'));
  const incr = entries.filter((entry) => entry.type === 'i').at(-1);
  assert.ok(incr, 'the AOF set has an incr file');
  return `appendonlydir/${incr.file}`;
}

/** Users 1..20 in the AOF, a clean stop, then its last write cut 5 bytes short (a crash while writing it). */
async function lastWriteCutShort(server: ServerUnderTest): Promise<void> {
  await writeUsers(server, 1, 20);
  await server.stop();
  await server.withDataFile(await lastAofIn(server), (file) => cutShort(file, 5));
}

/**
 * The check of the repair of a copy (integrity-aof-fix-copy), on a server stopped with its last write
 * cut short: the checker says what it cuts, the copy lost exactly the partial command, the original
 * is untouched, and `recheck` (the flavor's own redis-check-aof) finds the fixed copy clean. `recheck`
 * gets the fixed set (its manifest, or Redis 6.0's one file) and its cut file, under the data dir.
 */
function fixCopyCheck<S extends ServerUnderTest>(
  recheck: (server: S, fixedSet: string, fixedIncr: string) => Promise<void>,
): (ctx: VerifyContext<S>) => Promise<void> {
  return async (ctx) => {
    const server = ctx.server;
    const traits = engineTraits(ctx.engine.id);
    const single = traits.aofLayout === 'file';
    assert.equal(await server.isRunning(), false, 'Redis is stopped, as the page asks');
    const incr = await lastAofIn(server);
    const fixedIncr = single ? 'appendonly.aof.fix' : incr.replace(/^appendonlydir\//, 'appendonlydir.fix/');
    const size = async (path: string) => (await server.readDataFile(path)).length;
    const damagedSize = await size(incr);
    const { exitCode, stdout } = await ctx.run();
    assert.equal(exitCode, 0);
    // Redis 6.0's checker names no file: it was given one.
    const shrink = /This will shrink the AOF (?:(\S+) )?from (\d+) bytes, with (\d+) bytes, to (\d+) bytes/.exec(stdout);
    assert.ok(shrink, 'redis-check-aof says what it will cut');
    if (!single) assert.equal(basename(shrink[1] ?? ''), basename(incr));
    assert.equal(Number(shrink[2]), damagedSize);
    assert.match(stdout, /Successfully truncated AOF/);
    // Given the manifest, the checker checks the whole set again after the cut; given one file (Valkey 9.1, Redis 6.0), that file only.
    if (!traits.checkAofMisreadsBase && !single) assert.match(stdout, /All AOF files and manifest are valid/);
    const fixedSize = Number(shrink[4]);
    // The last command, `SET user:20 name-20`, is 39 bytes; 5 were cut off, --fix removes the other 34.
    assert.equal(damagedSize - fixedSize, 34, 'the partial last command is cut whole');
    assert.match(
      stdout,
      new RegExp(`^${basename(incr).replace(/\./g, '\\.')}: ${damagedSize} -> ${fixedSize} bytes, 21 -> 20 commands$`, 'm'),
    );
    assert.equal(await size(incr), damagedSize, 'the original is untouched');
    assert.equal(await size(fixedIncr), fixedSize);
    if (!single)
      assert.deepEqual(
        await server.dataEntries('appendonlydir.fix'),
        await server.dataEntries('appendonlydir'),
        '--fix keeps no copy of what it cut',
      );
    await recheck(server, single ? fixedIncr : 'appendonlydir.fix/appendonly.aof.manifest', fixedIncr);
  };
}

/** A running snapshot-only server with users 1..200 in a fresh dump.rdb. */
async function usersSaved(server: WithClient): Promise<void> {
  await writeUsers(server, 1, 200);
  await server.withClient((client) => client.save());
}

/**
 * The checker's verdict on a fresh, healthy AOF set: every file valid; on an engine whose checker
 * misreads its own VALKEY base (Valkey 9.1, the page's note), that false alarm, exactly.
 */
function assertAofSetChecked({ exitCode, stdout }: { exitCode: number; stdout: string }, engineId: string | undefined): void {
  if (engineTraits(engineId).aofLayout === 'file') {
    assert.equal(exitCode, 0);
    assert.match(stdout, /^AOF analyzed: size=(\d+), ok_up_to=\1, diff=0$/m);
    assert.match(stdout, /^AOF is valid$/m);
    return;
  }
  assert.match(stdout, /^Start checking Multi Part AOF$/m);
  if (engineTraits(engineId).checkAofMisreadsBase) {
    assert.equal(exitCode, 1);
    assert.match(stdout, /^AOF appendonly\.aof\.1\.base\.rdb format error$/m);
    assert.match(stdout, /AOF appendonly\.aof\.1\.base\.rdb is not valid/);
    return;
  }
  assert.equal(exitCode, 0);
  assert.match(stdout, /BASE AOF appendonly\.aof\.1\.base\.rdb is valid/);
  assert.match(stdout, /INCR AOF appendonly\.aof\.1\.incr\.aof is valid/);
  assert.match(stdout, /^All AOF files and manifest are valid$/m);
}

export const integritySnippets = [
  defineSnippet({
    id: 'integrity-check-rdb',
    title: 'Check a snapshot file',
    page,
    flavors: sameCheck(
      {
        setup: usersSaved,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /\\o\/ RDB looks OK! \\o\//);
          assert.match(stdout, /^\[info\] 200 keys read$/m);
          assert.ok(stdout.includes(`[offset 0] Checking RDB file ${ctx.values.dataDir}/dump.rdb\n`), "it checked the server's dump.rdb");
        },
      },
      {
        host: { command: 'redis-check-rdb {{dataDir}}/dump.rdb', server: { config: { appendonly: 'no', save: seedSaveRules } } },
        docker: {
          // A throwaway container of your image on the volume, read-only: Redis may keep running.
          command: 'docker run --rm --network none -v {{volume}}:/data:ro {{image}} redis-check-rdb /data/dump.rdb',
          server: { config: seedServerConfig },
        },
      },
    ),
  }),
  defineSnippet({
    id: 'integrity-check-rdb-drill',
    title: 'Drill: what redis-check-rdb says about damaged snapshots',
    page,
    flavors: drillFlavors({
      host: rdbDrill,
      docker: rdbDrillDocker,
      dockerValues: dockerDrillValues,
      check(stdout) {
        assert.equal(pipeSummary(stdout).replies, 1000);
        assert.match(stdout, /^dump\.rdb: exit 0, RDB looks OK$/m);
        assert.match(stdout, /^truncated\.rdb: exit 1, Unexpected EOF reading RDB file$/m);
        assert.match(stdout, /^flipped\.rdb: exit 1, RDB CRC error$/m);
      },
    }),
  }),
  defineSnippet({
    id: 'integrity-check-aof',
    title: 'Check the AOF set (Redis 7: give the manifest)',
    page,
    flavors: {
      host: {
        command: 'redis-check-aof {{dataDir}}/appendonlydir/appendonly.aof.manifest',
        variants: [
          singleFileAofVariant(
            'its AOF is one file, appendonly.aof in the data dir: give the checker that file.',
            'redis-check-aof {{dataDir}}/appendonly.aof',
          ),
        ],
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        setup: (server) => writeUsers(server, 1, 20),
        async verify(ctx) {
          assertAofSetChecked(await ctx.run(), ctx.server.engine.id);
        },
      },
      docker: {
        // Not read-only: redis-check-aof opens each file for writing even without --fix (and fails on a
        // read-only mount); it changes nothing unless given --fix.
        command: 'docker run --rm --network none -v {{volume}}:/data {{image}} redis-check-aof /data/appendonlydir/appendonly.aof.manifest',
        server: { config: seedServerConfig },
        setup: (server) => writeUsers(server, 1, 20),
        async verify(ctx) {
          assertAofSetChecked(await ctx.run(), ctx.server.engine.id);
        },
      },
    },
  }),
  defineSnippet({
    id: 'integrity-check-aof-old-path',
    title: 'The pre-7 AOF path on Redis 7',
    page,
    flavors: {
      host: {
        command: [
          'redis-check-aof {{dataDir}}/appendonly.aof; echo "exit $?"',
          'redis-check-aof {{dataDir}}/appendonlydir; echo "exit $?"',
        ].join('\n'),
        variants: [
          singleFileAofVariant(
            'this old path is the right one: appendonly.aof in the data dir is the whole AOF, and there is no appendonlydir.',
          ),
        ],
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        setup: (server) => writeUsers(server, 1, 20),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const dir = ctx.values.dataDir;
          if (engineTraits(ctx.engine.id).aofLayout === 'file') {
            // The 20 SETs and the SELECT before them: the one file checks clean; there is no directory to read.
            const size = (await stat(join(dir, 'appendonly.aof'))).size;
            assert.equal(
              stdout.trim(),
              [
                `AOF analyzed: size=${size}, ok_up_to=${size}, diff=0`,
                'AOF is valid',
                'exit 0',
                `Cannot open file: ${dir}/appendonlydir`,
                'exit 1',
              ].join('\n'),
            );
            return;
          }
          assert.equal(
            stdout.trim(),
            [
              `Cannot open file ${dir}/appendonly.aof: No such file or directory`,
              'exit 1',
              `Cannot read file: ${dir}/appendonlydir`,
              'exit 1',
            ].join('\n'),
          );
        },
      },
      docker: {
        command: [
          'docker run --rm --network none -v {{volume}}:/data {{image}} redis-check-aof /data/appendonly.aof; echo "exit $?"',
          'docker run --rm --network none -v {{volume}}:/data {{image}} redis-check-aof /data/appendonlydir; echo "exit $?"',
        ].join('\n'),
        server: { config: seedServerConfig },
        setup: (server) => writeUsers(server, 1, 20),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(
            stdout.trim(),
            [
              'Cannot open file /data/appendonly.aof: No such file or directory',
              'exit 1',
              'Cannot read file: /data/appendonlydir',
              'exit 1',
            ].join('\n'),
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'integrity-aof-fix-copy',
    title: 'Repair a copy of the AOF and see what was cut',
    page,
    flavors: {
      host: {
        command: fixCopy,
        variants: [lastIncrVariant(fixCopyIncr), singleFile(fixCopySingleFile)],
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        setup: lastWriteCutShort,
        verify: fixCopyCheck<DisposableRedis>(async (server, fixedSet) => {
          const recheck = await checkAof(server.engine, join(server.dir, fixedSet));
          assert.ok(recheck.ok, `the fixed copy checks clean: ${recheck.message}`);
        }),
      },
      docker: {
        command: fixCopyDocker,
        variants: [lastIncrVariant(fixCopyIncrDocker)],
        server: { config: seedServerConfig },
        setup: lastWriteCutShort,
        // The image's checker, in a throwaway container on the volume: the whole set where it reads it
        // (the manifest), else the cut incr file by itself.
        verify: fixCopyCheck<RedisContainer>(async (server, fixedSet, fixedIncr) => {
          const target = `/data/${engineTraits(server.engine.id).checkAofMisreadsBase ? fixedIncr : fixedSet}`;
          const recheck = await dockerTry([
            'run',
            '--rm',
            '--network',
            'none',
            '-v',
            `${server.volume}:/data`,
            server.image,
            'redis-check-aof',
            target,
          ]);
          assert.equal(recheck.exitCode, 0, 'the fixed copy checks clean');
        }),
      },
    },
  }),
  defineSnippet({
    id: 'integrity-aof-fix-drill',
    title: 'Drill: what --fix keeps, and what no check sees',
    page,
    flavors: drillFlavors({
      host: fixDrill,
      hostVariants: [lastIncrVariant(fixDrillIncr), singleFile(fixDrillSingleFile)],
      docker: fixDrillDocker,
      dockerVariants: [lastIncrVariant(fixDrillIncrDocker)],
      dockerValues: dockerDrillValues,
      check(stdout) {
        assert.equal(pipeSummary(stdout).replies, 20);
        // 21 commands: the SELECT Redis writes first, then the 20 SETs.
        assert.match(stdout, /^cut-short: redis-check-aof exit 1; after --fix, 20 of 21 commands are left$/m);
        assert.match(stdout, /^damaged-early: redis-check-aof exit 1; after --fix, 2 of 21 commands are left$/m);
        assert.match(stdout, /^value-changed: redis-check-aof exit 0; after --fix, 21 of 21 commands are left$/m);
        assert.match(stdout, /^user:7 = Name-7$/m);
      },
    }),
  }),
];

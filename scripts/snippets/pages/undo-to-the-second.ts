import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { waitFor } from '../../harness/wait.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { engineVariant, misreadBaseVariant, replaced, replacedEach, singleFileAofVariant } from '../variants.ts';
import { exitCodeFor } from '../../cli/exit-codes.ts';
import { defineSnippet } from '../schema.ts';

const page = 'recovery/undo-to-the-second';

/** Both flavors' servers: an AOF with timestamps, no snapshots in the way. */
const timestamped = { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', save: '""' };

/** Any server a scenario writes through. */
interface WithClient {
  withClient<T>(fn: (client: Redis) => Promise<T>): Promise<T>;
}

/** The server's clock in whole seconds: the AOF's `#TS:` annotations come from it. */
async function serverSecond(client: Redis): Promise<number> {
  return Number((await client.time())[0]);
}

/** Waits until the server's clock has passed `second`. */
async function pastSecond(client: Redis, second: number): Promise<void> {
  await waitFor(async () => (await serverSecond(client)) > second, { what: `the server's clock to pass ${second}`, timeoutMs: 5000 });
}

/** Every string key and its value. */
async function strings(client: Redis): Promise<Record<string, string | null>> {
  const keys = (await client.keys('*')).sort();
  return Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await client.get(key)] as const)));
}

/** Where a scenario keeps the good state and its time for the verification. */
const goodFile = (scratch: string) => join(scratch, 'good-state.json');

/**
 * The accident: good data A (in a later second than the AOF's start, so its writes carry a
 * timestamp), then in a later second a bad overwrite, a delete and a FLUSHALL. Saves A and T (the
 * last second of A) in scratch.
 */
async function goodThenBad(server: WithClient, scratch: string): Promise<void> {
  const good = await server.withClient(async (client) => {
    await pastSecond(client, await serverSecond(client));
    await client.mset('order:1001', 'paid', 'order:1002', 'shipped', 'stock:widget', '17');
    const state = await strings(client);
    const t = await serverSecond(client);
    await pastSecond(client, t);
    await client.set('stock:widget', '0');
    await client.del('order:1002');
    await client.flushall();
    return { state, t };
  });
  await writeFile(goodFile(scratch), JSON.stringify(good));
}

async function readGood(scratch: string): Promise<{ state: Record<string, string | null>; t: number }> {
  return JSON.parse(await readFile(goodFile(scratch), 'utf8')) as { state: Record<string, string | null>; t: number };
}

/** `{{rewindTime}}` as the page shows it: ISO 8601 in UTC. */
const rewindTimeValue = async ({ scratch }: { scratch: string }) => ({
  rewindTime: new Date((await readGood(scratch)).t * 1000).toISOString().replace('.000Z', 'Z'),
});

/**
 * A stopped host server after the accident, and {{rewindTime}} the last good second. Timestamps are
 * turned on at run time (a start with aof-timestamp-enabled in its config fails where there is none:
 * Redis 6.0, whose AOF then has no timestamps).
 */
const afterTheAccident = {
  server: { config: { appendonly: 'yes', save: '""' } },
  async setup(server: DisposableRedis, scratch: string) {
    if (engineTraits(server.engine.id).aofTimestamps)
      await server.withClient((client) => client.config('SET', 'aof-timestamp-enabled', 'yes'));
    await goodThenBad(server, scratch);
    await server.stop();
  },
  values: rewindTimeValue,
};

/** Where there are no AOF timestamps (Redis 6.0): a rewind to a second cannot work; the page's way back is a backup. */
const noTimestamps = (why: string) => engineVariant((traits) => !traits.aofTimestamps, why);

/** The data dir's entries and their sizes: what a refused rewind must leave as it was. */
async function dirState(dir: string): Promise<Record<string, number>> {
  const names = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, (await stat(join(dir, name))).size] as const)));
}

/** The server, started again on the rewound files, holds exactly the good state. */
async function assertGoodAfterStart(server: DisposableRedis, scratch: string): Promise<void> {
  await server.start();
  assert.deepEqual(
    await server.withClient(strings),
    (await readGood(scratch)).state,
    'a normal start loads exactly the data of the time rewound to',
  );
}

/** The FLUSHALL undo by hand: cut the FLUSHALL off the end of the last incr file, after a copy. */
const flushallTail = [
  '( set -e',
  'cd {{dataDir}}/{{appenddirname}}',
  'aof={{appendfilename}}  # your appendfilename',
  '# The last incr file named in the manifest',
  'f=$(awk \'$6 == "i" { f = $2 } END { print f }\' "$aof.manifest")',
  '# Only if the AOF really ends with the FLUSHALL (*1 $8 flushall: 18 bytes)',
  'if [ "$(tail -c 18 "$f" | tr -d \'\\r\\n\' | tr A-Z a-z)" != \'*1$8flushall\' ]; then echo "$f does not end with FLUSHALL: leave it as it is" >&2; exit 1; fi',
  'cp -a . "$(pwd).before-undo-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'truncate -s -18 "$f"',
  'redis-check-aof "$aof.manifest" | tail -n 1 )',
].join('\n');

/** The FLUSHALL undo on Redis 6.0's one-file AOF: the same cut, on appendonly.aof in the data dir. */
const flushallTailSingleFile = replacedEach(flushallTail, [
  ['cd {{dataDir}}/{{appenddirname}}', 'cd {{dataDir}}'],
  [
    '# The last incr file named in the manifest\nf=$(awk \'$6 == "i" { f = $2 } END { print f }\' "$aof.manifest")',
    'f=$aof  # the whole AOF: one file',
  ],
  ['cp -a . "$(pwd).before-undo-', 'cp -a "$f" "$f.before-undo-'],
  ['redis-check-aof "$aof.manifest" | tail -n 1 )', 'redis-check-aof "$f" | tail -n 1 )'],
]);

/** The FLUSHALL undo where the checker misreads the RDB base (Valkey 9.1): the cut incr file checked by itself. */
const flushallTailIncr = replaced(flushallTail, 'redis-check-aof "$aof.manifest" | tail -n 1 )', 'redis-check-aof "$f" | tail -n 1 )');

const rewindManual = [
  '( set -e',
  'cd {{dataDir}}',
  'aofdir={{appenddirname}} aof={{appendfilename}}  # your appenddirname and appendfilename',
  '# Keep a copy of the AOF as it is: the checker cuts it in place',
  'cp -a "$aofdir" "$aofdir.before-rewind-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  '# Cut every write logged after that second (the writes of the second itself stay)',
  'redis-check-aof --truncate-to-timestamp "$(date -d {{rewindTime}} +%s)" "$aofdir/$aof.manifest" | tail -n 2 )',
].join('\n');

/** The cut where the checker misreads the RDB base (Valkey 9.1): on the last incr file, the one a cut can reach. */
const rewindManualIncr = replaced(
  rewindManual,
  'redis-check-aof --truncate-to-timestamp "$(date -d {{rewindTime}} +%s)" "$aofdir/$aof.manifest" | tail -n 2 )',
  [
    '# The last incr file named in the manifest',
    'f=$(awk \'$6 == "i" { f = $2 } END { print f }\' "$aofdir/$aof.manifest")',
    'redis-check-aof --truncate-to-timestamp "$(date -d {{rewindTime}} +%s)" "$aofdir/$f" | tail -n 1 )',
  ].join('\n'),
);

const MISREAD_WHY =
  'its checker calls the RDB base file invalid (integrity page), so give it the last incr file, which holds every write since the last rewrite.';

export const rewindSnippets = [
  defineSnippet({
    id: 'rewind-enable-timestamps',
    title: 'Turn on AOF timestamps',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} CONFIG SET aof-timestamp-enabled yes\nredis-cli -h {{host}} -p {{port}} CONFIG REWRITE',
        variants: [
          noTimestamps(
            'there is no aof-timestamp-enabled: it answers ERR Unsupported CONFIG parameter, so no rewind to a second; keep backups to roll back to.',
          ),
        ],
        server: { config: { appendonly: 'yes', save: '""' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          if (!engineTraits(ctx.engine.id).aofTimestamps) {
            // redis-cli exits 0 on an error reply; the rewrite of the config then runs and has nothing to add.
            assert.equal(stdout.trim(), 'ERR Unsupported CONFIG parameter: aof-timestamp-enabled\n\nOK');
            assert.doesNotMatch(await readFile(server.configFile, 'utf8'), /aof-timestamp-enabled/);
            return;
          }
          assert.equal(stdout.trim(), 'OK\nOK');
          assert.match(
            await readFile(server.configFile, 'utf8'),
            /^aof-timestamp-enabled yes$/m,
            'CONFIG REWRITE kept it in the config file',
          );
          // The next write in a new second carries a timestamp in the AOF.
          await server.withClient(async (client) => {
            await pastSecond(client, await serverSecond(client));
            await client.set('stamped', '1');
          });
          const aofDir = join(server.dir, 'appendonlydir');
          const incr = (await readdir(aofDir)).filter((name) => name.endsWith('.incr.aof'));
          const text = (await Promise.all(incr.map((name) => readFile(join(aofDir, name), 'latin1')))).join('');
          assert.match(text, /^#TS:\d+\r\n(\*2\r\n\$6\r\nSELECT\r\n\$1\r\n0\r\n)?\*3\r\n\$3\r\nset\r\n\$7\r\nstamped/m);
        },
      },
      docker: {
        command: 'docker exec {{container}} redis-cli CONFIG SET aof-timestamp-enabled yes',
        server: { config: { appendonly: 'yes', save: '""' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(stdout.trim(), 'OK');
          const server = ctx.server;
          const reply = await server.withClient((client) => client.config('GET', 'aof-timestamp-enabled'));
          assert.deepEqual(reply, ['aof-timestamp-enabled', 'yes']);
        },
      },
    },
  }),
  defineSnippet({
    id: 'rewind-cli',
    title: 'Undo everything after a second in time, with the CLI',
    page,
    flavors: {
      host: {
        command: 'redis-playbook rewind --data-dir {{dataDir}} --to {{rewindTime}}',
        variants: [
          noTimestamps(
            `its one-file AOF has no timestamps: the CLI refuses (exit ${exitCodeFor('state')}) and changes nothing; restore a backup instead.`,
          ),
        ],
        ...afterTheAccident,
        async verify(ctx) {
          const server = ctx.server;
          if (!engineTraits(ctx.engine.id).aofTimestamps) {
            const before = await dirState(server.dir);
            const { exitCode, stdout, stderr } = await ctx.run();
            assert.equal(exitCode, exitCodeFor('state'));
            assert.equal(stdout, '');
            assert.match(
              stderr,
              new RegExp(
                `${join(server.dir, 'appendonly.aof').replace(/[.\\/]/g, '\\$&')} is a Redis 6 AOF, which has no timestamps \\(aof-timestamp-enabled came with Redis 7\\.0\\): restore a backup instead`,
              ),
            );
            assert.deepEqual(await dirState(server.dir), before, 'a refused rewind changes nothing');
            return;
          }
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /^Rewound .*appendonlydir to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: cut \d+ bytes/m);
          assert.match(stdout, /pre-rewind-.*: that folder is your undo/);
          assert.equal((await readdir(server.dir)).filter((name) => name.startsWith('pre-rewind-')).length, 1);
          await assertGoodAfterStart(server, ctx.scratch);
        },
      },
      docker: {
        command: 'redis-playbook rewind --container {{container}} --to {{rewindTime}}',
        server: { config: timestamped },
        setup: goodThenBad,
        values: rewindTimeValue,
        timeoutMs: 120_000,
        async verify(ctx) {
          const server = ctx.server;
          const { exitCode, stdout } = await ctx.run({ env: server.env });
          assert.equal(exitCode, 0);
          assert.match(stdout, /is running again with the rewound data loaded/);
          assert.equal(await server.isRunning(), true);
          assert.deepEqual(
            await server.withClient(strings),
            (await readGood(ctx.scratch)).state,
            'exactly the data of the time rewound to',
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'rewind-manual',
    title: 'Undo everything after a second in time, by hand',
    page,
    flavors: {
      host: {
        command: rewindManual,
        variants: [
          misreadBaseVariant(MISREAD_WHY, rewindManualIncr),
          noTimestamps(
            'there is no appendonlydir and no timestamps to cut at (its redis-check-aof has no --truncate-to-timestamp): this stops at the copy, changing nothing; restore a backup instead.',
          ),
        ],
        ...afterTheAccident,
        async verify(ctx) {
          if (!engineTraits(ctx.engine.id).aofTimestamps) {
            const server = ctx.server;
            const before = await dirState(server.dir);
            const { exitCode, stdout, stderr } = await ctx.run();
            assert.equal(exitCode, 1);
            assert.equal(stdout, '');
            assert.equal(stderr.trim(), "cp: cannot stat 'appendonlydir': No such file or directory");
            assert.deepEqual(await dirState(server.dir), before, 'nothing changed');
            return;
          }
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /Successfully truncated AOF (appendonlydir\/)?appendonly\.aof\.\d+\.incr\.aof to timestamp \d+/);
          if (!engineTraits(ctx.engine.id).checkAofMisreadsBase) assert.match(stdout, /All AOF files and manifest are valid/);
          const server = ctx.server;
          assert.equal((await readdir(server.dir)).filter((name) => name.startsWith('appendonlydir.before-rewind-')).length, 1);
          await assertGoodAfterStart(server, ctx.scratch);
        },
      },
    },
  }),
  defineSnippet({
    id: 'rewind-flushall-tail',
    title: 'Undo a FLUSHALL without timestamps, before the next rewrite',
    page,
    flavors: {
      host: {
        command: flushallTail,
        variants: [
          misreadBaseVariant(
            'its checker calls the RDB base file invalid (integrity page), so check the cut incr file by itself.',
            flushallTailIncr,
          ),
          singleFileAofVariant(
            'its AOF is one file, appendonly.aof in the data dir: cut the FLUSHALL off that file.',
            flushallTailSingleFile,
          ),
        ],
        server: { config: { appendonly: 'yes', save: '""' } },
        async setup(server, scratch) {
          const state = await server.withClient(async (client) => {
            await client.mset('order:1001', 'paid', 'order:1002', 'shipped');
            const state = await strings(client);
            await client.flushall();
            return state;
          });
          await writeFile(goodFile(scratch), JSON.stringify({ state, t: 0 }));
          await server.stop();
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const traits = engineTraits(ctx.engine.id);
          const server = ctx.server;
          if (traits.aofLayout === 'file') {
            assert.equal(stdout.trim(), 'AOF is valid');
            assert.equal((await readdir(server.dir)).filter((name) => name.startsWith('appendonly.aof.before-undo-')).length, 1);
            await assertGoodAfterStart(server, ctx.scratch);
            return;
          }
          assert.match(
            stdout,
            traits.checkAofMisreadsBase ? /^AOF appendonly\.aof\.\d+\.incr\.aof is valid$/m : /All AOF files and manifest are valid/,
          );
          assert.equal((await readdir(server.dir)).filter((name) => name.startsWith('appendonlydir.before-undo-')).length, 1);
          await assertGoodAfterStart(server, ctx.scratch);
        },
      },
    },
  }),
];

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.ts';
import { Redis } from 'ioredis';
import { ENGINE_IDS, engineById, type Engine } from '../../harness/engine.ts';
import { freePort } from '../../harness/free-port.ts';
import { startRedis, type DisposableRedis, type RedisServerOptions } from '../../harness/redis-server.ts';
import { waitFor } from '../../harness/wait.ts';
import { backup } from '../../procedures/backup.ts';
import { diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import { FORMAT_REFUSED, rdbHeader, readRdbVersion } from '../../redis/rdb.ts';
import { formatLoadLine, type Load } from '../cross-load.ts';
import { defineSnippet, type ValuesContext, type VerifyContext } from '../schema.ts';
import { connected, withOpenClient } from '../../procedures/scratch-server.ts';
import { clientOptions } from '../../procedures/server-under-test.ts';
import { parseInfo, type InfoSections } from '../../redis/info.ts';
import { scratchBackups, backupValues } from '../scenarios/rollback.ts';
import { waitUntil } from '../shell-wait.ts';

const page = 'operations/moving-between-versions';

/** The project's `bin/` (the redis-playbook launcher), for commands run with a PATH of their own. */
const projectBin = fileURLToPath(new URL('../../../bin', import.meta.url));

/** PATH with one engine's programs (as `redis-server`, `redis-cli`, …) and its fence first, then the CLI, then the host's. */
const pathFor = (ctx: Pick<VerifyContext<unknown>, 'enginePath'>, engine: Engine) =>
  ctx.enginePath([projectBin, process.env.PATH].filter(Boolean).join(delimiter), engine);

/**
 * The engine with this id. A verification that needs an engine fails with the reason when it is not
 * on this machine (`npm run engines` fetches it; CI fetches every engine in scripts/setup.sh).
 */
const need = (id: string): Engine => engineById(id);

/** `Redis 7.0.15` / `Valkey 8.1.1`: product and the version the server reports. */
async function serverName(server: { engine: Engine; info(section: string): Promise<InfoSections> }): Promise<string> {
  const fields = (await server.info('server')).server ?? {};
  const version = fields.valkey_version ?? fields.redis_version;
  assert.ok(version, 'INFO server names a version');
  return `${server.engine.product === 'valkey' ? 'Valkey' : 'Redis'} ${version}`;
}

/**
 * Starts a server of `engine` for a block's values (its port fills the command): the report names it
 * (unless the command does not reach it), and it is disposed of after the run.
 */
async function startFor(
  ctx: ValuesContext<unknown>,
  options: RedisServerOptions,
  engine: Engine,
  { answers = true } = {},
): Promise<DisposableRedis> {
  const server = await startRedis(options, engine);
  ctx.defer(() => server.dispose());
  // Only a server the page's command reaches is named (one stopped before the command is not).
  if (answers) await ctx.identify({ host: server.host, port: server.port, engine });
  return server;
}

/** A server the block's values started, reached again by its port (what the page's command reaches). */
function serverAt(port: string, engine: Engine) {
  const host = '127.0.0.1';
  const open = () => connected(new Redis(clientOptions({ host, port: Number(port) }, undefined)));
  return {
    engine,
    host,
    port: Number(port),
    withClient: <T>(fn: (client: Redis) => Promise<T>) => withOpenClient(open, fn),
    info: async (section: string) => parseInfo(await withOpenClient(open, (client) => client.info(section))),
  };
}

/** A client of a server the page's command started itself (a practice server on scratchPort). */
function practiceClient(port: string): Promise<Redis> {
  return connected(new Redis(clientOptions({ host: '127.0.0.1', port: Number(port) }, undefined)));
}

/** Kills the practice server whose pid file is in `dir`, if it still runs. */
async function killPractice(dir: string): Promise<void> {
  const pid = Number(await readFile(join(dir, 'redis.pid'), 'utf8').catch(() => ''));
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** SHA-256 of every file under a dir, by relative path: to prove a dir was left byte for byte as it was. */
async function treeHashes(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const hashes: Record<string, string> = {};
  for (const entry of entries.filter((item) => item.isFile())) {
    const path = join(entry.parentPath, entry.name);
    hashes[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return hashes;
}

const SNAPSHOT_ONLY = { appendonly: 'no', save: '""' } as const;

/** An RDB written by one engine: a mixed dataset of strings, hashes, lists, sets, sorted sets, a TTL and a second database. */
interface WrittenRdb {
  engine: Engine;
  name: string;
  path: string;
  rdb: number;
  dataset: Dataset;
}

async function writeRdb(engine: Engine, dir: string): Promise<WrittenRdb> {
  await using server = await startRedis({ config: SNAPSHOT_ONLY }, engine);
  const name = await serverName(server);
  const dataset = await server.withClient(async (client) => {
    await writeMixedDataset(client, engine.id, 10);
    await client.save();
    return readDataset(client);
  });
  const path = join(dir, `${engine.id}.rdb`);
  await copyFile(join(server.dir, 'dump.rdb'), path);
  return { engine, name, path, rdb: await readRdbVersion(path), dataset };
}

/**
 * Starts `loader` on the RDB and compares every key with what the writer held; a refusal must be the
 * server exiting with `Can't handle RDB format version N` in its log.
 */
async function loadWith(loader: Engine, written: WrittenRdb): Promise<Omit<Load, 'writer' | 'rdb'> & { loaderName: string }> {
  try {
    await using server = await startRedis(
      { config: SNAPSHOT_ONLY, initialFiles: { 'dump.rdb': written.path }, readyTimeoutMs: 30_000 },
      loader,
    );
    const loaderName = await serverName(server);
    const got = await server.withClient(readDataset);
    assert.deepEqual(diffDatasets(written.dataset, got), [], `${loaderName} holds every key of ${written.name}'s RDB`);
    return { loader: loaderName, loaderName, loaded: true, detail: `${got.size} of ${written.dataset.size} keys equal` };
  } catch (error) {
    const message = (error as Error).message;
    if (!message.includes('exited during start')) throw error;
    // Redis meets Valkey 9's VALKEY magic before any version number: "Wrong signature".
    const line = /Can't handle RDB format version \d+|Wrong signature trying to load DB from file/.exec(message);
    assert.ok(line, `${loader.id} exited on ${written.name}'s RDB without the format line:\n${message}`);
    const { stdout } = await exec(loader.server, ['--version'], { reject: false });
    const name = `${loader.product === 'valkey' ? 'Valkey' : 'Redis'} ${/v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? '?'}`;
    return { loader: name, loaderName: name, loaded: false, detail: line[0] };
  }
}

/** Does the engine's own RDB checker accept the file (`RDB looks OK`, exit 0)? */
async function checkerAccepts(engine: Engine, path: string): Promise<boolean> {
  const result = await exec(engine.checkRdb, [path], { reject: false, all: true, timeout: 30_000 });
  return result.exitCode === 0 && result.all.includes('RDB looks OK') && !FORMAT_REFUSED.test(result.all);
}

/** Reading an RDB's format and whether this machine's server reads it. */
const rdbCheck = [
  '# The format version: REDIS0009 (Redis 6.0), REDIS0010 (Redis 7.0), REDIS0011 (Valkey 8.1),',
  '# REDIS0012 (Redis 8.0), REDIS0013 (Redis 8.6), VALKEY080 (Valkey 9.1)',
  'head -c 9 {{backup}}/dump.rdb; echo',
  "# The checker of the server that is to load the file (it is that server's loader)",
  'redis-server --version',
  'redis-check-rdb {{backup}}/dump.rdb | grep -E "AUX FIELD (redis|valkey)-ver|RDB (format )?version|RDB looks OK|Wrong signature"',
].join('\n');

/** The lines a refused load leaves in the server's log. */
const refusedLog = 'grep -E "RDB format version|Fatal error loading" {{logFile}}';

/** Moving down: an AOF of plain commands on the newer server, loaded by the older one (a trial server on a copy). */
const aofDowngrade = [
  'cli() { redis-cli -h {{host}} -p {{port}} "$@"; }',
  '# On the newer server: the AOF as plain commands, without the RDB preamble',
  'cli CONFIG SET aof-use-rdb-preamble no',
  'if [ "$(cli CONFIG GET appendonly | tail -n 1)" = yes ]; then cli BGREWRITEAOF; else cli CONFIG SET appendonly yes; fi',
  waitUntil("cli INFO persistence | grep -q '^aof_rewrite_in_progress:0' && cli INFO persistence | grep -q '^aof_rewrite_scheduled:0'", {
    seconds: 3600,
  }),
  "cli INFO persistence | grep '^aof_last_bgrewrite_status'",
  'cat {{dataDir}}/appendonlydir/appendonly.aof.manifest',
  '# The older server (its redis-server first on PATH) on a copy of that AOF directory',
  'dir={{scratchDir}}; port={{scratchPort}}',
  'mkdir -p "$dir" && cp -a {{dataDir}}/appendonlydir "$dir/"',
  'redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --save "" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"',
  'for _ in $(seq 100); do redis-cli -p "$port" PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done',
  'echo "older $(redis-cli -p "$port" INFO server | grep -E \'^redis_version\' | tr -d \'\\r\'): $(redis-cli -p "$port" DBSIZE) keys; newer: $(cli DBSIZE) keys"',
].join('\n');

/** DUMP on the newer server, RESTORE on the older one, and the other way round. */
const dumpRestore = [
  '# The RDB format version a DUMP payload carries (its 2 bytes before the 8-byte checksum)',
  'redis-cli -h {{host}} -p {{port}} --raw DUMP user:1 | head -c -1 | tail -c 10 | head -c 2 | od -An -tu2',
  '# Newer to older: DUMP on this server, RESTORE on the older one',
  'redis-cli -h {{host}} -p {{port}} --raw DUMP user:1 | head -c -1 | redis-cli -p {{scratchPort}} -x RESTORE user:1 0',
  '# Older to newer',
  'redis-cli -p {{scratchPort}} --raw DUMP user:2 | head -c -1 | redis-cli -h {{host}} -p {{port}} -x RESTORE user:2 0',
].join('\n');

/** Upgrade by replication: the newer server (a trial on scratchPort) replicates the older one, then leaves it. */
const replicateUp = [
  '# The newer server replicates this one until the first sync is done',
  'redis-cli -p {{scratchPort}} REPLICAOF {{host}} {{port}}',
  "for _ in $(seq 300); do redis-cli -p {{scratchPort}} INFO replication | grep -q '^master_link_status:up' && break; sleep 0.1; done",
  "redis-cli -p {{scratchPort}} INFO replication | grep -E '^(role|master_link_status)'",
  '# Then it stops replicating and keeps the data',
  'redis-cli -p {{scratchPort}} REPLICAOF NO ONE',
  'echo "older: $(redis-cli -h {{host}} -p {{port}} DBSIZE) keys, newer: $(redis-cli -p {{scratchPort}} DBSIZE) keys"',
].join('\n');

/** The measured cross-load: each engine's RDB (its bytes) and every engine started on every one of them. */
interface CrossLoad {
  written: { name: string; rdb: number; bytes: Buffer }[];
  loads: Load[];
}

let crossLoad: Promise<CrossLoad> | undefined;

/**
 * Writes an RDB with each engine in `dir` and starts every engine on every file (16 loads, one
 * loader's four at a time), each checker agreeing with its server. Measured once per process: the
 * block runs on each engine, and every run reads this same table.
 */
function measureCrossLoad(dir: string): Promise<CrossLoad> {
  crossLoad ??= (async (): Promise<CrossLoad> => {
    const engines = ENGINE_IDS.map(need);
    await mkdir(dir, { recursive: true });
    const written = await Promise.all(engines.map((engine) => writeRdb(engine, dir)));
    const loads: Load[] = [];
    for (const loader of engines) {
      const row = await Promise.all(
        written.map(async (rdb): Promise<Load> => {
          const load = await loadWith(loader, rdb);
          assert.equal(
            await checkerAccepts(loader, rdb.path),
            load.loaded,
            `${loader.checkRdb} agrees with ${load.loaderName} starting on ${rdb.name}'s RDB`,
          );
          return { loader: load.loader, writer: rdb.name, rdb: rdb.rdb, loaded: load.loaded, detail: load.detail };
        }),
      );
      loads.push(...row);
    }
    for (const rdb of written)
      assert.ok(
        loads.some((load) => load.writer === rdb.name && load.loader === rdb.name && load.loaded),
        `${rdb.name} loads its own RDB`,
      );
    return { written: await Promise.all(written.map(async ({ name, rdb, path }) => ({ name, rdb, bytes: await readFile(path) }))), loads };
  })();
  // A failed measurement is measured again by the next run.
  crossLoad.catch(() => (crossLoad = undefined));
  return crossLoad;
}

export const versionsSnippets = [
  defineSnippet({
    id: 'versions-rdb-check',
    title: "Read an RDB file's format and check that a server loads it",
    page,
    crossEngine: true,
    flavors: {
      host: {
        command: rdbCheck,
        server: false,
        values: ({ scratch }) => ({ backup: join(scratch, 'backup') }),
        timeoutMs: 180_000,
        async verify(ctx) {
          const { written, loads } = await measureCrossLoad(join(ctx.scratch, 'rdbs'));
          // The page's command on each engine's file, with the checker of this run's engine.
          const backupDir = ctx.values.backup;
          await mkdir(backupDir, { recursive: true });
          for (const rdb of written) {
            await writeFile(join(backupDir, 'dump.rdb'), rdb.bytes);
            ctx.note(`# dump.rdb written by ${rdb.name}`);
            const { stdout } = await ctx.run();
            assert.match(stdout, new RegExp(`^${rdbHeader(rdb.rdb)}$`, 'm'));
            const checker = /^(Redis|Valkey) server v=(\d+\.\d+\.\d+)/m.exec(stdout);
            assert.ok(checker, 'redis-server --version names the server');
            const expected = loads.find((load) => load.loader === `${checker[1]} ${checker[2]}` && load.writer === rdb.name);
            assert.ok(expected, `the table has ${checker[1]} ${checker[2]}`);
            // A refusal: "Can't handle RDB format version N"; Valkey 9 on Redis 8's formats "looks OK, but
            // loading requires config 'rdb-version-check relaxed'"; Redis on VALKEY080 "Wrong signature".
            if (expected.loaded) assert.match(stdout, /RDB looks OK! /);
            else assert.match(stdout, FORMAT_REFUSED);
          }
          ctx.note('# Each server started on each file (every key compared with the server that wrote it):');
          for (const load of loads) ctx.note(formatLoadLine(load));
        },
      },
    },
  }),
  defineSnippet({
    id: 'versions-refused-load-log',
    title: 'The log of a server that cannot read a newer RDB',
    page,
    crossEngine: true,
    flavors: {
      host: {
        command: refusedLog,
        server: false,
        values: ({ scratch }) => ({ logFile: join(scratch, 'older', 'redis.log') }),
        async verify(ctx) {
          const older = need('redis-7.0');
          const newer = need('redis-8.0');
          const written = await writeRdb(newer, ctx.scratch);
          assert.equal(written.rdb, 12);
          const dir = join(ctx.scratch, 'older', 'data');
          await mkdir(dir, { recursive: true });
          await copyFile(written.path, join(dir, 'dump.rdb'));
          const before = await treeHashes(dir);
          const port = String(await freePort());
          const started = await exec(
            older.server,
            ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'no', '--save', '', '--logfile', ctx.values.logFile],
            {
              reject: false,
              timeout: 30_000,
            },
          );
          assert.ok(started.exitCode !== 0 && !started.timedOut, `${older.id} exits instead of serving (exit ${started.exitCode})`);
          assert.deepEqual(await treeHashes(dir), before, 'the refused dump.rdb is left as it was');
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /Can't handle RDB format version 12/);
          assert.match(stdout, /Fatal error loading the DB/);
          ctx.note(
            `(${written.name}'s dump.rdb, ${await serverNameOf(older)} started on it: exit ${started.exitCode}; the file is unchanged)`,
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'versions-aof-downgrade',
    title: 'Move down a version with an AOF of plain commands',
    page,
    crossEngine: true,
    flavors: {
      host: {
        command: aofDowngrade,
        server: false,
        values: async (ctx) => {
          need('redis-7.0');
          const { scratch } = ctx;
          const newer = await startFor(ctx, { config: SNAPSHOT_ONLY }, need('redis-8.0'));
          await newer.withClient((client) => writeMixedDataset(client, 'newer', 20));
          return {
            host: newer.host,
            port: String(newer.port),
            dataDir: newer.dir,
            scratchDir: join(scratch, 'older'),
            scratchPort: String(await freePort()),
          };
        },
        timeoutMs: 90_000,
        async verify(ctx) {
          const newer = serverAt(ctx.values.port, need('redis-8.0'));
          const older = need('redis-7.0');
          const expected = await newer.withClient(readDataset);
          try {
            const { exitCode, stdout } = await ctx.run({ env: { PATH: await pathFor(ctx, older) } });
            assert.equal(exitCode, 0);
            assert.match(stdout, /aof_last_bgrewrite_status:ok/);
            assert.match(
              stdout,
              /^file appendonly\.aof\.\d+\.base\.aof seq \d+ type b/m,
              'the base file is commands (.base.aof), not an RDB',
            );
            assert.match(stdout, /older redis_version:7\.0\.15: (\d+) keys; newer: \1 keys/);
            const client = await practiceClient(ctx.values.scratchPort);
            try {
              assert.deepEqual(diffDatasets(expected, await readDataset(client)), [], 'Redis 7.0 holds every key of the Redis 8.0 server');
            } finally {
              client.disconnect();
            }
            ctx.note(
              `(all ${expected.size} keys of databases 0 and 1 compared by type, value and expiry: equal; DBSIZE counts database 0)`,
            );
          } finally {
            await killPractice(ctx.values.scratchDir);
          }
        },
      },
    },
  }),
  defineSnippet({
    id: 'versions-dump-restore',
    title: 'DUMP and RESTORE between versions',
    page,
    crossEngine: true,
    flavors: {
      host: {
        command: dumpRestore,
        server: false,
        values: async (ctx) => {
          // Both engines first: a missing one fails the verification before any server starts.
          const [newEngine, oldEngine] = [need('redis-8.0'), need('redis-7.0')];
          const newer = await startFor(ctx, { config: SNAPSHOT_ONLY }, newEngine);
          const older = await startFor(ctx, { config: SNAPSHOT_ONLY }, oldEngine);
          await newer.withClient((client) => client.hset('user:1', { name: 'Ada', plan: 'pro' }));
          await older.withClient((client) => client.hset('user:2', { name: 'Grace', plan: 'free' }));
          return { host: newer.host, port: String(newer.port), scratchPort: String(older.port) };
        },
        async verify(ctx) {
          const [newer, older] = [serverAt(ctx.values.port, need('redis-8.0')), serverAt(ctx.values.scratchPort, need('redis-7.0'))];
          const { stdout } = await ctx.run({ env: { PATH: await pathFor(ctx, need('redis-7.0')) } });
          const lines = stdout
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean);
          assert.deepEqual(lines, ['12', 'ERR DUMP payload version or checksum are wrong', 'OK']);
          assert.equal(await older.withClient((client) => client.exists('user:1')), 0, 'Redis 7.0 did not restore the Redis 8.0 payload');
          assert.deepEqual(
            await newer.withClient((client) => client.hgetall('user:2')),
            { name: 'Grace', plan: 'free' },
            'Redis 8.0 restored the Redis 7.0 payload',
          );
          ctx.note(
            `(${await serverName(newer)} on this port, ${await serverName(older)} on the other: user:1 is not on the older one; user:2 arrived whole on the newer one)`,
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'versions-replicate-up',
    title: 'Move up a version by replication',
    page,
    crossEngine: true,
    flavors: {
      host: {
        command: replicateUp,
        server: false,
        values: async (ctx) => {
          const [oldEngine, newEngine] = [need('redis-7.0'), need('redis-8.0')];
          const older = await startFor(ctx, { config: SNAPSHOT_ONLY }, oldEngine);
          const newer = await startFor(ctx, { config: SNAPSHOT_ONLY }, newEngine);
          await older.withClient((client) => writeMixedDataset(client, 'older', 20));
          return { host: older.host, port: String(older.port), scratchPort: String(newer.port) };
        },
        timeoutMs: 90_000,
        async verify(ctx) {
          const [older, newer] = [serverAt(ctx.values.port, need('redis-7.0')), serverAt(ctx.values.scratchPort, need('redis-8.0'))];
          const expected = await older.withClient(readDataset);
          const { exitCode, stdout } = await ctx.run({ env: { PATH: await pathFor(ctx, need('redis-7.0')) } });
          assert.equal(exitCode, 0);
          assert.match(stdout, /master_link_status:up/);
          assert.match(stdout, /older: (\d+) keys, newer: \1 keys/);
          assert.deepEqual(
            diffDatasets(expected, await newer.withClient(readDataset)),
            [],
            'the newer server holds every key of the older one',
          );
          assert.equal((await newer.info('replication')).replication?.role, 'master', 'the newer server left replication');
          ctx.note(
            `(${await serverName(older)} to ${await serverName(newer)}: all ${expected.size} keys of databases 0 and 1 compared by type, value and expiry: equal; DBSIZE counts database 0)`,
          );

          // The other way down: Redis 7.0 as a replica of Redis 8.0 receives an RDB 12 it cannot read.
          await using down = await startRedis({ config: SNAPSHOT_ONLY }, older.engine);
          await down.cli(['REPLICAOF', newer.host, String(newer.port)]);
          await waitFor(async () => (await down.log()).includes("Can't handle RDB format version 12"), {
            what: 'Redis 7.0 to refuse the RDB of its Redis 8.0 primary',
            timeoutMs: 30_000,
          });
          assert.equal((await down.info('replication')).replication?.master_link_status, 'down');
          ctx.note(
            `(the other way, ${await serverName(down)} as a replica of ${await serverName(newer)}: its log says "Can't handle RDB format version 12" and master_link_status stays down)`,
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'versions-restore-refused',
    title: 'The CLI refuses a backup the server cannot load',
    page,
    crossEngine: true,
    flavors: {
      host: {
        command: 'redis-playbook restore {{backup}} --data-dir {{dataDir}} --server redis-server',
        server: false,
        values: async (ctx) => {
          // A backup of a Redis 8.0 server, and the stopped data dir of a Redis 7.0 server.
          const oldEngine = need('redis-7.0');
          await using newer = await startRedis({ config: SNAPSHOT_ONLY }, need('redis-8.0'));
          await newer.withClient(async (client) => {
            await writeMixedDataset(client, 'newer', 20);
            await backup({ client, source: { host: newer.host, port: newer.port }, engine: newer.engine, to: scratchBackups(ctx.scratch) });
          });
          const older = await startFor(ctx, { config: { appendonly: 'yes', save: '900 1' } }, oldEngine, { answers: false });
          await older.withClient((client) => writeMixedDataset(client, 'older', 20));
          await older.stop();
          return { ...(await backupValues(ctx)), dataDir: older.dir };
        },
        timeoutMs: 90_000,
        async verify(ctx) {
          const dataDir = ctx.values.dataDir;
          const before = await treeHashes(dataDir);
          assert.ok(Object.keys(before).includes('dump.rdb'));
          const { exitCode, all } = await ctx.run({ env: { PATH: await pathFor(ctx, need('redis-7.0')) } });
          assert.notEqual(exitCode, 0);
          assert.match(all, /backup has RDB format 12 \(Redis 8\.0\), redis-server 7\.0\.15 loads up to 10/);
          assert.deepEqual(await treeHashes(dataDir), before, 'the data dir is byte for byte as it was');
          ctx.note(`(exit ${exitCode}; every file of the data dir is byte for byte as it was)`);
        },
      },
    },
  }),
];

/** `Redis 7.0.15` from a server program's `--version`. */
async function serverNameOf(engine: Engine): Promise<string> {
  const { stdout } = await exec(engine.server, ['--version'], { reject: false });
  return `${engine.product === 'valkey' ? 'Valkey' : 'Redis'} ${/v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? '?'}`;
}

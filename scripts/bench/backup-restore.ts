#!/usr/bin/env node
/**
 * `npm run bench [-- --keys N --value-size N --rounds N --warmup N --aof --json]`: on one dataset
 * (by default ≥ 1 GiB of RDB), times the playbook's backup and its restore-then-start against the
 * same work done by hand, one step after the other (baselines.ts: BGSAVE + wait + cp + sync +
 * redis-check-rdb + sha256; sha256 + cp + sync + start), sides alternating, and prints every round,
 * where each side's time went, the medians and their ratios against the target (≤ 1.05); first the
 * single executable's start against
 * `node` running the same bundle (`npm run build:cli` builds both). A measurement: exit 0 whether or not the
 * target is met (ABOVE TARGET is printed when not); 2 on bad arguments or a machine without room.
 * Every server and temp dir it makes is removed at the end, also on failure or Ctrl-C.
 */
import { execa } from 'execa';
import { readdir, rm, stat, statfs } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { hostRedis } from '../harness/engine.ts';
import { startRedis } from '../harness/redis-server.ts';
import { waitFor } from '../harness/wait.ts';
import { backup } from '../procedures/backup.ts';
import { readManifest } from '../procedures/manifest.ts';
import { restore } from '../procedures/restore.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { rawBackup, rawRestoreStart, startLoaded } from './baselines.ts';
import { measureStart } from './cli-start.ts';
import { measureCluster } from './cluster.ts';
import { phaseClock, phasesOf } from './phases.ts';
import { BenchReportSchema, compare, formatBytes, formatReport, TARGET_RATIO, type BenchReport, type Comparison } from './report.ts';

/** The options of `npm run bench`. */
export const BenchOptionsSchema = z.object({
  /** Keys written with `DEBUG POPULATE` (the default gives an RDB of about 1.04 GiB). */
  keys: z.coerce
    .number({ error: 'expected a number of keys' })
    .int({ error: 'expected a whole number' })
    .positive({ error: 'expected at least 1' })
    .default(1_100_000),
  /** Bytes of each value. */
  'value-size': z.coerce
    .number({ error: 'expected a number of bytes' })
    .int({ error: 'expected a whole number' })
    .positive({ error: 'expected at least 1' })
    .default(1000),
  /**
   * Timed rounds of each side. Five: Redis's own load of the 1 GiB file varies by ±10 % from round to
   * round, on either side, and the median of three moved the restore ratio between 0.97 and 1.31.
   */
  rounds: z.coerce
    .number({ error: 'expected a number of rounds' })
    .int({ error: 'expected a whole number' })
    .positive({ error: 'expected at least 1' })
    .default(5),
  /** Untimed rounds of each side first (warm page cache and memory for both). */
  warmup: z.coerce
    .number({ error: 'expected a number of rounds' })
    .int({ error: 'expected a whole number' })
    .nonnegative({ error: 'expected 0 or more' })
    .default(1),
  /** Also measure both operations on an `appendonly yes` server (its AOF base is another copy of the dataset). */
  aof: z.boolean().default(false),
  /** Megabytes of values in the cluster comparisons (the issue's 1 GB by default); 0 leaves them out. */
  'cluster-mb': z.coerce
    .number({ error: 'expected a number of megabytes' })
    .int({ error: 'expected a whole number' })
    .nonnegative({ error: 'expected 0 or more' })
    .default(1024),
  /** Only the cluster comparisons (backup --cluster, restore --into-cluster). */
  'cluster-only': z.boolean().default(false),
  /** Print the report as one JSON object (progress still goes to stderr). */
  json: z.boolean().default(false),
});
export type BenchOptions = z.infer<typeof BenchOptionsSchema>;

const HELP = `Usage: npm run bench -- [--keys N] [--value-size N] [--rounds N] [--warmup N] [--aof]
                        [--cluster-mb N] [--cluster-only] [--json]

Times, on one dataset, the playbook's backup and restore-then-start against the same work done by
hand, step after step (BGSAVE + wait + cp + sync + redis-check-rdb + sha256; sha256 + cp + sync +
start), and prints each round, the medians and the ratios (target ≤ 1.05).

  --keys N         Keys written with DEBUG POPULATE (default 1100000: about 1.04 GiB of RDB)
  --value-size N   Bytes of each value (default 1000)
  --rounds N       Timed rounds of each side (default 5)
  --warmup N       Untimed rounds of each side before them (default 1)
  --aof            Also measure an appendonly yes server
  --cluster-mb N   Megabytes in the cluster comparisons (default 1024; 0 skips them): backup --cluster
                   against the slowest shard's own backup, taken alone and taken while the other
                   shards' own backups run (target ≤ 1.15; each side's CPU seconds are printed),
                   and restore --into-cluster against redis-cli --cluster import (target ≤ 2: at
                   least half its throughput)
  --cluster-only   Only the cluster comparisons
  --json           Print one JSON object
  -h, --help       Show this help`;

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function parse(): BenchOptions {
  let values;
  try {
    values = parseArgs({
      options: {
        keys: { type: 'string' },
        'value-size': { type: 'string' },
        rounds: { type: 'string' },
        warmup: { type: 'string' },
        aof: { type: 'boolean' },
        'cluster-mb': { type: 'string' },
        'cluster-only': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }).values;
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const result = BenchOptionsSchema.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? '');
    usage(`Invalid --${name} ${JSON.stringify((values as Record<string, unknown>)[name])}: ${issue?.message}`);
  }
  return result.data;
}

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const seconds = (ms: number) => ms / 1000;

/** Flushes dirty pages between rounds (untimed), so that no round pays for the previous one's writeback. */
async function settle(): Promise<void> {
  await execa('sync');
}

/** Refuses to start when the temp dir's file system cannot hold the dataset's copies. */
async function assertRoom(estimatedRdbBytes: number, aof: boolean): Promise<void> {
  const fs = await statfs(tmpdir());
  const free = fs.bavail * fs.bsize;
  // Source RDB and its BGSAVE temp file, the kept backup and a new one, the raw copy, the restored
  // file and the one moved aside; an AOF run adds the AOF base to most of them.
  const needed = estimatedRdbBytes * (aof ? 14 : 8) + 1024 ** 3;
  if (free < needed) usage(`${tmpdir()} has ${formatBytes(free)} free; this run needs about ${formatBytes(needed)}`);
  log(`${tmpdir()}: ${formatBytes(free)} free, about ${formatBytes(needed)} needed`);
}

/** One side of a comparison: `run` is timed; `before` and `after` (set-up and clean-up) are not. */
interface Side {
  before?: () => Promise<void>;
  /** Returns where the time went (phase → seconds), when it can tell. */
  run: () => Promise<Record<string, number> | undefined>;
  after?: () => Promise<void>;
}

/** Runs the warm-up and timed rounds of both sides, alternating which goes first; returns the timed seconds. */
async function alternate(options: BenchOptions, what: string, sides: { raw: Side; playbook: Side }) {
  const raw: number[] = [];
  const playbook: number[] = [];
  const phases: Record<string, number>[] = [];
  const rawPhases: Record<string, number>[] = [];
  const total = options.warmup + options.rounds;
  for (let round = 0; round < total; round++) {
    const timed = round >= options.warmup;
    const label = timed ? `round ${round - options.warmup + 1}/${options.rounds}` : `warm-up ${round + 1}/${options.warmup}`;
    const order = round % 2 === 0 ? (['raw', 'playbook'] as const) : (['playbook', 'raw'] as const);
    for (const name of order) {
      const side = sides[name];
      await side.before?.();
      await settle();
      const started = performance.now();
      const result = await side.run();
      const elapsed = seconds(performance.now() - started);
      await side.after?.();
      log(
        `${what} ${label} ${name}: ${elapsed.toFixed(2)} s${
          result
            ? ` (${Object.entries(result)
                .map(([phase, value]) => `${phase} ${value.toFixed(2)}`)
                .join(', ')})`
            : ''
        }`,
      );
      if (!timed) continue;
      if (name === 'raw') {
        raw.push(elapsed);
        rawPhases.push(result ?? {});
      } else {
        playbook.push(elapsed);
        phases.push(result ?? {});
      }
    }
  }
  return { raw, playbook, phases, rawPhases };
}

/** Removes every entry of `dir` except those named in `keep`. */
async function emptyDir(dir: string, keep: string[] = []): Promise<void> {
  for (const name of await readdir(dir)) if (!keep.includes(name)) await rm(join(dir, name), { recursive: true, force: true });
}

/** Times both operations on one server configuration. */
async function measure(options: BenchOptions, appendonly: boolean): Promise<{ rdbBytes: number; comparisons: Comparison[] }> {
  const config = { appendonly: appendonly ? 'yes' : 'no', save: '""', rdbcompression: 'no' };
  await using source = await startRedis({ config: { ...config, 'enable-debug-command': 'local' }, readyTimeoutMs: 60_000 });
  await using target = await startRedis({ config, readyTimeoutMs: 3_600_000 });
  await target.stop({ save: false });
  const client = await source.client();
  try {
    log(`appendonly ${config.appendonly}: DEBUG POPULATE ${options.keys} key ${options['value-size']}`);
    await client.call('DEBUG', 'POPULATE', options.keys, 'key', options['value-size']);
    if (appendonly) {
      // DEBUG POPULATE bypasses the AOF: a rewrite puts the dataset into the AOF base, as on a real server.
      await client.bgrewriteaof();
      await waitFor(
        async () => {
          const info = flattenInfo(parseInfo(await client.info('persistence')));
          return info.aof_rewrite_in_progress === '0' && info.aof_rewrite_scheduled === '0';
        },
        { what: 'the AOF rewrite to finish', timeoutMs: 3_600_000, intervalMs: 100 },
      );
    }

    const backups = join(source.root, 'backups');
    const rawCopy = join(source.root, 'raw-backup');
    let latest: string | undefined;
    const backupRounds = await alternate(options, `backup (appendonly ${config.appendonly})`, {
      raw: {
        run: () =>
          rawBackup(
            client,
            hostRedis,
            { rdb: join(source.dir, 'dump.rdb'), aofDir: appendonly ? join(source.dir, 'appendonlydir') : undefined },
            rawCopy,
          ),
        after: () => rm(rawCopy, { recursive: true, force: true }),
      },
      playbook: {
        run: async () => {
          const { timestamps, onProgress } = phaseClock();
          const started = performance.now();
          const result = await backup({
            client,
            source: { host: source.host, port: source.port },
            engine: hostRedis,
            to: backups,
            onProgress,
          });
          latest = result.path;
          return phasesOf(timestamps, started, performance.now());
        },
        // Keep only the newest backup (the one the restore rounds install).
        after: () => emptyDir(backups, latest ? [basename(latest)] : []),
      },
    });
    if (!latest) throw new Error('no backup was made');
    const rdbBytes = (await stat(join(latest, 'dump.rdb'))).size;
    log(`backup ${latest}: dump.rdb ${formatBytes(rdbBytes)}`);

    const backupRdb = join(latest, 'dump.rdb');
    const backupSha256 = (await readManifest(latest)).files.find((file) => file.role === 'rdb')?.sha256 ?? '';
    const restoreRounds = await alternate(options, `restore+start (appendonly ${config.appendonly})`, {
      raw: {
        // A fresh data dir.
        before: () => emptyDir(target.dir),
        run: () => rawRestoreStart(target, backupRdb, backupSha256, appendonly),
        after: () => target.stop({ save: false }),
      },
      playbook: {
        // The data dir of a stopped server, holding its previous files (the restore moves them aside).
        run: async () => {
          const started = performance.now();
          await restore({ backup: latest as string, dataDir: target.dir, engine: hostRedis });
          const restored = performance.now();
          await startLoaded(target);
          return { restore: seconds(restored - started), 'start+load': seconds(performance.now() - restored) };
        },
        after: async () => {
          await target.stop({ save: false });
          await emptyDir(target.dir, ['dump.rdb', 'appendonlydir']);
        },
      },
    });
    const suffix = appendonly ? ' (appendonly yes)' : '';
    return {
      rdbBytes,
      comparisons: [
        compare({
          name: `backup${suffix}`,
          appendonly,
          raw: appendonly
            ? 'BGSAVE + wait + cp dump.rdb + cp -r appendonlydir + sync + redis-check-rdb + redis-check-aof + sha256'
            : 'BGSAVE + wait + cp dump.rdb + sync + redis-check-rdb + sha256',
          playbook: 'backup()',
          rawSeconds: backupRounds.raw,
          rawPhases: backupRounds.rawPhases,
          playbookSeconds: backupRounds.playbook,
          playbookPhases: backupRounds.phases,
        }),
        compare({
          name: `restore+start${suffix}`,
          appendonly,
          raw: appendonly ? 'sha256 + cp + AOF base link + sync + start + loaded' : 'sha256 + cp + sync + start + loaded',
          playbook: 'restore() + start + loaded',
          rawSeconds: restoreRounds.raw,
          rawPhases: restoreRounds.rawPhases,
          playbookSeconds: restoreRounds.playbook,
          playbookPhases: restoreRounds.phases,
        }),
      ],
    };
  } finally {
    client.disconnect();
  }
}

const options = parse();
if (!options['cluster-only']) await assertRoom(options.keys * (options['value-size'] + 24), options.aof);
const report: BenchReport = {
  dataset: { keys: options.keys, valueSize: options['value-size'], rdbBytes: 0 },
  machine: { cpus: availableParallelism(), loadAverage: { start: loadavg()[0] ?? 0, end: 0 } },
  rounds: options.rounds,
  warmupRounds: options.warmup,
  targetRatio: TARGET_RATIO,
  comparisons: [],
};
if (!options['cluster-only']) {
  // The CLI's start: the single executable against node running the same bundle.
  report.comparisons.push(await measureStart(options, log));
  for (const appendonly of options.aof ? [false, true] : [false]) {
    const measured = await measure(options, appendonly);
    report.dataset.rdbBytes = measured.rdbBytes;
    report.comparisons.push(...measured.comparisons);
  }
}
if (options['cluster-mb'] > 0) {
  const cluster = await measureCluster({ ...options, clusterMb: options['cluster-mb'] }, log);
  report.dataset.clusterKeys = cluster.keys;
  report.comparisons.push(...cluster.comparisons);
}
report.machine.loadAverage.end = loadavg()[0] ?? 0;
if (!options['cluster-only'] && report.dataset.rdbBytes < 1024 ** 3)
  log(`note: the RDB is ${formatBytes(report.dataset.rdbBytes)}, below the 1 GiB the issue asks for`);
const parsed = BenchReportSchema.parse(report);
process.stdout.write(options.json ? `${JSON.stringify(parsed, null, 2)}\n` : formatReport(parsed));

import { copyFile, mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { aofManifestName } from '../redis/aof.ts';
import { readAofTimeline, type AofTimeline } from '../redis/aof-timestamps.ts';
import { checkAof } from '../redis/rdb.ts';
import type { DataFiles } from './inspect-report.ts';
import { PlaybookError } from './errors.ts';
import { statDataDir, copyWithDigest, exists, folderStamp, fsyncPath, makeNewFolder, matchOwner } from './files.ts';
import { lockDataDir } from './lock.ts';
import { assertNoServerOn } from './running-server.ts';
import { stopPoint } from './stop-points.ts';
import { assertFreeSpace, isDiskFull } from './space.ts';
import { LONG_RUN, runProgram } from '../core/run.ts';

export interface RewindOptions {
  /** The stopped server's data dir (`CONFIG GET dir`). */
  dataDir: string;
  /** Unix seconds: every write made up to and including this second is kept, every later one is cut. */
  to: number;
  /** The server's engine: its own AOF checker does the cut and checks the result. */
  engine: Engine;
  appenddirname?: string;
  appendfilename?: string;
  /** The clock (unix seconds), for the refusal of a time in the future. */
  now?: () => number;
}

export interface RewindResult {
  dataDir: string;
  aofDir: string;
  to: number;
  /** The earliest time the AOF could be rewound to, and its last write before the rewind. */
  earliest: number | undefined;
  latest: number | undefined;
  /** False when nothing was written after `to` (then nothing was touched). */
  changed: boolean;
  /** Bytes of logged writes that were cut. */
  removedBytes: number;
  /** The copy of the AOF dir as it was (the undo); undefined when nothing changed. */
  movedAside: string | undefined;
}

/** ISO 8601 UTC without milliseconds, as the CLI prints times. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A time given on the command line: Unix seconds, or ISO 8601 with a zone (`2026-12-02T14:05:00Z`,
 * `…+01:00`). A time without a zone is refused rather than guessed in the machine's zone.
 */
export function parseRewindTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d{9,11}$/.test(trimmed)) return Number(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    const why = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed)
      ? 'it has no time zone: add Z for UTC, or an offset like +01:00'
      : 'expected ISO 8601 with a zone (2026-12-02T14:05:00Z) or Unix seconds';
    throw new PlaybookError('usage', `--to "${text}": ${why}`);
  }
  const millis = Date.parse(trimmed.replace(' ', 'T'));
  if (Number.isNaN(millis)) throw new PlaybookError('usage', `--to "${text}" is not a valid date`);
  return Math.floor(millis / 1000);
}

/**
 * Throws, as the one-line `state` error a refusal is, when the AOF of `timeline` cannot be rewound to
 * `to`: a file that is not RESP, no timestamps, or a time before the last rewrite.
 */
export function assertRewindable(timeline: AofTimeline, to: number, where = timeline.aofDir): void {
  const broken = timeline.incr.find((file) => file.error !== undefined);
  if (broken)
    throw new PlaybookError('state', `${join(where, broken.file)} is not a valid AOF (${broken.error}): run redis-check-aof on it first`);
  const refused = refusal({ ...timeline, aofDir: where }, to);
  if (refused) throw new PlaybookError('state', `Cannot rewind: ${refused}`);
}

/** The result of a rewind to `to` before it changes anything: the AOF's span, nothing cut, no undo yet. */
export function unchangedRewind(dataDir: string, aofDir: string, to: number, timeline: AofTimeline): RewindResult {
  return {
    dataDir,
    aofDir,
    to,
    earliest: timeline.earliest,
    latest: timeline.latest,
    changed: false,
    removedBytes: 0,
    movedAside: undefined,
  };
}

/** Refuses a time in the future (a usage error: nothing is touched). */
export function assertNotFuture(to: number, now: number): void {
  if (to > now) throw new PlaybookError('usage', `--to ${isoSeconds(to)} is in the future (it is ${isoSeconds(now)} now)`);
}

/** Why the AOF of `timeline` cannot be rewound to `to`; undefined when it can (or needs nothing). */
function refusal(timeline: AofTimeline, to: number): string | undefined {
  if (timeline.commands > 0 && !timeline.timestamps) {
    const rewrite =
      timeline.base.time === undefined
        ? ''
        : `, or they were all made in the second of its last rewrite (${isoSeconds(timeline.base.time)})`;
    return `none of the ${timeline.commands} writes in the AOF in ${timeline.aofDir} has a timestamp: aof-timestamp-enabled is off${rewrite}, so a rewind cannot place them in time. Turn timestamps on (CONFIG SET aof-timestamp-enabled yes, and in the config) for the future; for now, restore a backup from before that time`;
  }
  if (timeline.earliest !== undefined && to < timeline.earliest) {
    return `${isoSeconds(to)} is before the earliest time this AOF reaches, ${isoSeconds(timeline.earliest)} (the AOF's history starts at its last rewrite): restore a backup from before ${isoSeconds(to)} instead (redis-playbook backups lists them)`;
  }
  return undefined;
}

/** What inspect says of a rewind: whether the AOF carries timestamps, and the earliest time it reaches. */
export async function rewindReach(input: {
  appendonly: boolean;
  timestamps: boolean | null;
  files: DataFiles;
  appendfilename: string;
  container: boolean;
}): Promise<{ timestamps: boolean | null; earliest: string | null; words: string }> {
  const { appendonly, timestamps, files } = input;
  const none = (words: string) => ({ timestamps, earliest: null, words });
  if (timestamps === null)
    return none('Not possible: this server has no aof-timestamp-enabled (Redis 7.0+ and Valkey have it); roll back with backups.');
  if (!appendonly) return none('Not possible: the AOF is off (appendonly no); roll back with backups.');
  if (!timestamps)
    return none(
      'Not possible yet: aof-timestamp-enabled is no. Turn it on (CONFIG SET aof-timestamp-enabled yes, and in the config) and a rewind reaches back to the next AOF rewrite.',
    );
  if (input.container || !files.readable || files.aofFiles === null) {
    return none(
      'Possible back to the last AOF rewrite (redis-playbook rewind on the stopped server); run inspect where the AOF dir can be read to see that time.',
    );
  }
  const timeline = await readAofTimeline(files.aofDir, input.appendfilename).catch(() => undefined);
  if (!timeline) return none(`Possible back to the last AOF rewrite; its files in ${files.aofDir} could not be read.`);
  if (timeline.commands > 0 && !timeline.timestamps)
    return none(
      'Not yet: no write since the last AOF rewrite carries a timestamp (Redis stamps a write only in a later second than the rewrite).',
    );
  if (timeline.earliest === undefined) return none('Possible back to the last AOF rewrite, whose time the AOF does not say.');
  return {
    timestamps,
    earliest: isoSeconds(timeline.earliest),
    words: `Possible back to ${isoSeconds(timeline.earliest)} (the first write after the last AOF rewrite): stop the server, then redis-playbook rewind --data-dir DIR --to TIME. Older points are only in backups.`,
  };
}

/** Runs the engine's checker with `--truncate-to-timestamp`; throws with its own words when it fails. */
async function truncateWithChecker(engine: Engine, timeline: AofTimeline, to: number): Promise<void> {
  const run = (target: string) => runProgram(engine.checkAof, ['--truncate-to-timestamp', String(to), target], { all: true, ...LONG_RUN });
  let result = await run(timeline.manifestPath);
  let output = result.all ?? '';
  // valkey-check-aof 9.1 misreads its own VALKEY-magic RDB base (see checkAof): with one incr file,
  // cut that file alone, as the checker does for a single-file AOF.
  const lastIncr = timeline.incr.at(-1);
  if (
    result.exitCode !== 0 &&
    output.includes('format error') &&
    output.includes(timeline.base.file) &&
    timeline.incr.length === 1 &&
    lastIncr
  ) {
    result = await run(join(timeline.aofDir, lastIncr.file));
    output = result.all ?? '';
  }
  if (result.exitCode !== 0 || !/Successfully truncated|Truncate nothing/.test(output)) {
    const lines = output
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const why = lines.find((line) => /fail|error|cannot|can't|not valid|invalid/i.test(line)) ?? lines.at(-1) ?? `exit ${result.exitCode}`;
    throw new PlaybookError('other', `${engine.checkAof} --truncate-to-timestamp ${to} failed: ${why}`, {
      command: `${engine.checkAof} --truncate-to-timestamp`,
    });
  }
}

/**
 * Point-in-time rollback of a stopped server's AOF: cuts every write logged after `to` with the
 * engine's own `redis-check-aof --truncate-to-timestamp`, so the next normal start loads the
 * dataset as it was at the end of that second.
 *
 * Refuses, changing nothing: a running server on the dir, no AOF dir (or Redis 6's single file,
 * which has no timestamps), an AOF without timestamps, a time before the last rewrite (the base
 * holds no history) or in the future. Before the cut, the whole AOF dir is copied into
 * `<dataDir>/pre-rewind-<UTC time>/` (the undo; the checker cuts in place); after it, the AOF set
 * is checked, and a failed cut or check puts the original files back.
 */
export async function rewind(options: RewindOptions): Promise<RewindResult> {
  const { dataDir, to, engine } = options;
  const appenddirname = options.appenddirname ?? 'appendonlydir';
  const appendfilename = options.appendfilename ?? 'appendonly.aof';
  const now = options.now?.() ?? Math.floor(Date.now() / 1000);
  assertNotFuture(to, now);

  const dirInfo = await statDataDir(dataDir);
  await using _lock = await lockDataDir(dataDir, 'rewind');
  await assertNoServerOn(dataDir, 'rewind');

  const aofDir = join(dataDir, appenddirname);
  if (!(await exists(join(aofDir, aofManifestName(appendfilename))))) {
    if (await exists(join(dataDir, appendfilename))) {
      throw new PlaybookError(
        'state',
        `${join(dataDir, appendfilename)} is a Redis 6 AOF, which has no timestamps (aof-timestamp-enabled came with Redis 7.0): restore a backup instead`,
      );
    }
    throw new PlaybookError(
      'state',
      `No AOF in ${dataDir} (no ${join(appenddirname, aofManifestName(appendfilename))}): a rewind needs appendonly yes with aof-timestamp-enabled yes; restore a backup instead`,
    );
  }
  const timeline = await readAofTimeline(aofDir, appendfilename).catch((caught: unknown) => {
    const error = caught as Error;
    throw new PlaybookError('io', `The AOF in ${aofDir} cannot be read: ${error.message}`, { cause: error });
  });
  assertRewindable(timeline, to);

  const result = unchangedRewind(dataDir, aofDir, to, timeline);
  if (timeline.latest === undefined || timeline.latest <= to) return result;

  // The undo: a copy of the whole AOF dir as it is, since the checker cuts the files in place.
  const names = (await readdir(aofDir)).sort();
  let total = 0;
  for (const name of names) total += (await stat(join(aofDir, name))).size;
  await assertFreeSpace(dataDir, total, 'the copy of the AOF kept as the undo');
  let aside: string | undefined;
  try {
    aside = await makeNewFolder(dataDir, `pre-rewind-${folderStamp()}`);
    const asideAof = join(aside, appenddirname);
    await mkdir(asideAof);
    for (const name of names) await copyWithDigest(join(aofDir, name), join(asideAof, name));
    await fsyncPath(asideAof);
    await fsyncPath(aside);
    await fsyncPath(dataDir);
    for (const path of [aside, asideAof, ...names.map((name) => join(asideAof, name))]) await matchOwner(path, dirInfo);
  } catch (error) {
    const reason = isDiskFull(error) ? `the disk of ${dataDir} is full` : (error as Error).message;
    const partial = aside === undefined ? '' : `, and the partial copy ${aside} can be removed`;
    throw new PlaybookError(
      'io',
      `Cannot keep a copy of ${aofDir} in ${dataDir} before the rewind (${reason}); the AOF is unchanged${partial}`,
      { cause: error },
    );
  }
  result.movedAside = aside;
  stopPoint('rewind-after-copy');

  const sizeBefore = timeline.incr.reduce((sum, file) => sum + file.bytes, 0);
  try {
    await truncateWithChecker(engine, timeline, to);
    stopPoint('rewind-after-cut');
    const check = await checkAof(engine, timeline.manifestPath);
    if (!check.ok) throw new PlaybookError('other', `after the cut, ${engine.checkAof} says: ${check.message}`);
  } catch (error) {
    // Put the AOF back as it was: the checker cut in place, the copy has the original bytes. Each file
    // is copied beside its name and renamed over it: killed meanwhile, none is ever half written.
    for (const file of timeline.incr) {
      const back = join(aofDir, `.${file.file}.undo`);
      await copyFile(join(aside, appenddirname, file.file), back);
      await matchOwner(back, dirInfo);
      await fsyncPath(back);
      await rename(back, join(aofDir, file.file));
    }
    await fsyncPath(aofDir);
    const reason = error instanceof Error ? error.message : String(error);
    throw new PlaybookError(
      error instanceof PlaybookError ? error.kind : 'other',
      `Rewind of ${aofDir} failed and was undone (the AOF is as before; a copy is in ${aside}): ${reason}`,
      {
        cause: error,
      },
    );
  }
  let sizeAfter = 0;
  for (const file of timeline.incr) sizeAfter += (await stat(join(aofDir, file.file))).size;
  await fsyncPath(aofDir);
  result.changed = true;
  result.removedBytes = sizeBefore - sizeAfter;
  return result;
}

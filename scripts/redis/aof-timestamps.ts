import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aofManifestName, parseAofManifest } from './aof.ts';
import { readRdbAux } from './rdb.ts';

/**
 * What the timestamp annotations of one AOF file say. With `aof-timestamp-enabled yes` (Redis 7.0+,
 * Valkey) the server writes `#TS:<unix seconds>` before the first command of each second it logs;
 * `redis-check-aof --truncate-to-timestamp T` cuts the file at the first annotation later than T.
 */
export interface AofFileTimes {
  file: string;
  bytes: number;
  /** Commands (RESP arrays) in the file. */
  commands: number;
  /** Commands before its first annotation: their time is unknown (timestamps were off then). */
  commandsBeforeFirstTs: number;
  /** The first and last `#TS:` values; undefined when the file has none. */
  firstTs: number | undefined;
  lastTs: number | undefined;
  /** Why the scan stopped early (not RESP); undefined when it read the whole file. */
  error: string | undefined;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Reads an AOF file in RESP form (an incr file, or a base written without an RDB preamble) as a
 * stream and collects its annotations. Bulk payloads are skipped by their length, so a value that
 * contains `#TS:` is never taken for one.
 */
export async function scanAofTimes(dir: string, file: string): Promise<AofFileTimes> {
  const times: AofFileTimes = {
    file,
    bytes: 0,
    commands: 0,
    commandsBeforeFirstTs: 0,
    firstTs: undefined,
    lastTs: undefined,
    error: undefined,
  };
  let pending: Buffer = Buffer.alloc(0);
  /** The file offset of pending[0]. */
  let pendingAt = 0;
  /** Payload bytes (with their CRLF) still to skip. */
  let skip = 0;
  for await (const chunk of createReadStream(join(dir, file), { highWaterMark: 1 << 20 })) {
    const data = chunk as Buffer;
    times.bytes += data.length;
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    let offset = 0;
    for (;;) {
      if (skip > 0) {
        const taken = Math.min(skip, pending.length - offset);
        skip -= taken;
        offset += taken;
        if (skip > 0) break;
      }
      const end = pending.indexOf(LF, offset);
      if (end < 0) break;
      if (end === offset || pending[end - 1] !== CR) {
        times.error = `not RESP at byte ${pendingAt + offset}`;
        return times;
      }
      const line = pending.toString('latin1', offset, end - 1);
      offset = end + 1;
      const kind = line[0];
      if (kind === '*') {
        times.commands++;
        if (times.firstTs === undefined) times.commandsBeforeFirstTs++;
      } else if (kind === '$') {
        const length = Number(line.slice(1));
        if (!Number.isInteger(length) || length < 0) {
          times.error = `a bad bulk length "${line}"`;
          return times;
        }
        skip = length + 2;
      } else if (kind === '#') {
        const ts = /^#TS:(\d+)$/.exec(line)?.[1];
        if (ts !== undefined) {
          times.firstTs ??= Number(ts);
          times.lastTs = Number(ts);
        }
      } else {
        times.error = `not RESP: a line starting with "${line.slice(0, 12)}"`;
        return times;
      }
    }
    pendingAt += offset;
    pending = pending.subarray(offset);
  }
  return times;
}

/** The AOF set of a data dir as a timeline: what a rewind can reach. */
export interface AofTimeline {
  /** The AOF dir and its manifest. */
  aofDir: string;
  manifestPath: string;
  /** The base file and the time it was written (the last rewrite: its RDB `ctime`), when known. */
  base: { file: string; time: number | undefined };
  /** The incr files in the manifest's order, with their annotations. */
  incr: AofFileTimes[];
  /** Whether any incr file has a `#TS:` annotation (aof-timestamp-enabled was on for its writes). */
  timestamps: boolean;
  /** Commands written after the base, in all incr files. */
  commands: number;
  /**
   * The earliest time a rewind reaches: the first annotated second after the last rewrite (the
   * checker cuts at the first annotation later than the time asked, and refuses to leave nothing
   * before it). Commands before the first annotation (of the rewrite's own second, which Redis does
   * not annotate again, or of a time when timestamps were off) were all made before that second: the
   * second before it is reached then. Undefined without annotations.
   */
  earliest: number | undefined;
  /** The time of the last annotated write; undefined without annotations. */
  latest: number | undefined;
}

/**
 * Reads a Redis 7+ AOF set (`<aofDir>/<appendfilename>.manifest`, its base and incr files) into a
 * timeline. Throws (ENOENT…) when the manifest or a file it lists cannot be read.
 */
export async function readAofTimeline(aofDir: string, appendfilename: string): Promise<AofTimeline> {
  const manifestPath = join(aofDir, aofManifestName(appendfilename));
  const entries = parseAofManifest(await readFile(manifestPath, 'utf8'));
  const baseEntry = entries.find((entry) => entry.type === 'b');
  const incr: AofFileTimes[] = [];
  for (const entry of entries.filter((item) => item.type === 'i')) incr.push(await scanAofTimes(aofDir, entry.file));
  let baseTime: number | undefined;
  if (baseEntry) {
    const ctime = Number((await readRdbAux(join(aofDir, baseEntry.file))).ctime);
    if (Number.isInteger(ctime) && ctime > 0) baseTime = ctime;
    else if (!baseEntry.file.endsWith('.rdb')) baseTime = (await scanAofTimes(aofDir, baseEntry.file)).firstTs;
  }
  const annotated = incr.filter((file) => file.firstTs !== undefined);
  const first = annotated[0];
  const untimed =
    incr.slice(0, first ? incr.indexOf(first) : incr.length).reduce((sum, file) => sum + file.commands, 0) +
    (first?.commandsBeforeFirstTs ?? 0);
  const commands = incr.reduce((sum, file) => sum + file.commands, 0);
  return {
    aofDir,
    manifestPath,
    base: { file: baseEntry?.file ?? '', time: baseTime },
    incr,
    timestamps: annotated.length > 0,
    commands,
    earliest: first?.firstTs === undefined ? undefined : untimed > 0 ? first.firstTs - 1 : first.firstTs,
    latest: annotated.at(-1)?.lastTs,
  };
}

import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { LONG_RUN, runProgram } from '../core/run.ts';

/**
 * The first RDB format version Valkey writes under its own magic: from Valkey 9.0 a snapshot starts
 * with `VALKEY` and three digits (`VALKEY080`) instead of `REDIS` and four (`REDIS0011`). Redis's
 * loaders refuse it as `Wrong signature`.
 */
export const VALKEY_RDB_MIN = 80;

/** The 9-byte header of an RDB of format `version`: `REDIS0012`, or `VALKEY080` from {@link VALKEY_RDB_MIN}. */
export function rdbHeader(version: number): string {
  return version >= VALKEY_RDB_MIN ? `VALKEY${String(version).padStart(3, '0')}` : `REDIS${String(version).padStart(4, '0')}`;
}

/**
 * A checker's (or a loading server's) words for "this engine does not load that format": a version
 * above its own, Valkey 9's "foreign" Redis formats above 11 (loaded only with `rdb-version-check
 * relaxed`), or Redis's loader meeting Valkey's `VALKEY` magic.
 */
export const FORMAT_REFUSED =
  /Can't handle RDB format version|but loading requires config 'rdb-version-check relaxed'|Wrong signature trying to load DB from file/;

/** RDB format version of a file (`REDIS0010` → 10, `VALKEY080` → 80); throws when the file does not start like an RDB. */
export async function readRdbVersion(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(9), 0, 9, 0);
    const header = buffer.subarray(0, bytesRead).toString('latin1');
    const match = /^REDIS(\d{4})$|^VALKEY(\d{3})$/.exec(header);
    if (!match) throw new Error(`${path} is not an RDB file (it does not start with "REDIS" or "VALKEY" and a version)`);
    return Number(match[1] ?? match[2]);
  } finally {
    await handle.close();
  }
}

/** Reads one RDB length-encoded integer at `offset`; returns it and the offset after it. */
export function readLength(bytes: Buffer, offset: number): { value: number; next: number } {
  const first = bytes[offset];
  if (first === undefined) throw new Error('Unexpected end of RDB data');
  switch (first >> 6) {
    case 0:
      return { value: first & 0x3f, next: offset + 1 };
    case 1:
      return { value: ((first & 0x3f) << 8) | (bytes[offset + 1] ?? 0), next: offset + 2 };
    case 2:
      if (first === 0x80) return { value: bytes.readUInt32BE(offset + 1), next: offset + 5 };
      if (first === 0x81) return { value: Number(bytes.readBigUInt64BE(offset + 1)), next: offset + 9 };
      break;
  }
  throw new Error(`Not a length encoding (byte 0x${first.toString(16)}) at offset ${offset}`);
}

const RDB_OPCODE_RESIZEDB = 0xfb;

/** Keys and keys with a TTL in one database of a snapshot. */
export interface DbSize {
  keys: number;
  expires: number;
}

/**
 * Outcome of the engine's RDB checker (`redis-check-rdb`): it reads the whole file and verifies the
 * CRC64 checksum. It detects damage; it cannot repair.
 */
export interface RdbCheck {
  ok: boolean;
  /** The checker's verdict line: `RDB looks OK`, or its first error line. */
  message: string;
  /** Keys read, in total. */
  keys: number | undefined;
  /** Keys whose TTL had already passed: a server skips them when it loads the file. */
  alreadyExpired: number | undefined;
  /** Key counts per database, from the size hints Redis writes after each SELECTDB. */
  databases: Record<number, DbSize>;
  /** The checker's whole output. */
  output: string;
}

/** Options of {@link checkRdb}. */
export interface CheckRdbOptions {
  /**
   * Where to read the per-database key counts, when `path` cannot be read again (a FIFO the checker
   * reads while the file is copied): a regular file with the same bytes, once complete.
   */
  sizesFrom?: Promise<string>;
  /**
   * Run the checker at this nice value (0 to 19): while a server's save child writes the snapshot
   * being checked, the checker then takes the CPU only when the child does not need it.
   */
  nice?: number;
}

/** Runs the engine's RDB checker on `path` and reads the per-database key counts the file records. */
export async function checkRdb(engine: Engine, path: string, options: CheckRdbOptions = {}): Promise<RdbCheck> {
  const result = await runProgram(engine.checkRdb, [path], { all: true, nice: options.nice, ...LONG_RUN });
  const output = result.all ?? '';
  // Valkey 9's checker passes a Redis RDB 12+ with "RDB looks OK, but loading requires config
  // 'rdb-version-check relaxed'": its server refuses that file by default, so it is no pass.
  const refused = FORMAT_REFUSED.exec(output)?.[0];
  const ok = result.exitCode === 0 && output.includes('RDB looks OK') && refused === undefined;
  const number = (label: string) => {
    const match = new RegExp(`\\[info\\] (\\d+) ${label}`).exec(output);
    return match ? Number(match[1]) : undefined;
  };
  const databases: Record<number, DbSize> = {};
  const selects = [...output.matchAll(/\[offset (\d+)\] Selecting DB ID (\d+)/g)];
  if (ok && selects.length > 0) {
    const handle = await open(await (options.sizesFrom ?? path), 'r');
    try {
      for (const select of selects) {
        const { buffer } = await handle.read(Buffer.alloc(24), 0, 24, Number(select[1]));
        if (buffer[0] !== RDB_OPCODE_RESIZEDB) continue;
        const keys = readLength(buffer, 1);
        const expires = readLength(buffer, keys.next);
        databases[Number(select[2])] = { keys: keys.value, expires: expires.value };
      }
    } finally {
      await handle.close();
    }
  }
  // The checker prints its verdict on the line after this marker: "[offset 109] RDB CRC error".
  const lines = output.split('\n');
  const marker = lines.indexOf('--- RDB ERROR DETECTED ---');
  const verdict = marker >= 0 ? lines[marker + 1]?.replace(/^\[offset \d+\] /, '').trim() : undefined;
  return {
    ok,
    message: ok
      ? 'RDB looks OK'
      : verdict ||
        (refused &&
          output
            .split('\n')
            .find((line) => line.includes(refused))
            ?.replace(/^\[offset \d+\] /, '')
            .trim()) ||
        `${engine.checkRdb} exited with status ${result.exitCode}`,
    keys: number('keys read'),
    alreadyExpired: number('already expired'),
    databases,
    output,
  };
}

/** Outcome of the engine's AOF checker on a Redis 7 AOF manifest (or a Redis 6 AOF file). */
export interface AofCheck {
  ok: boolean;
  message: string;
  output: string;
  /**
   * What `--fix` may be given to cut a partial command at the end: the path checked, or, where the
   * checker misreads the base file (below), the last incr file alone.
   */
  fixTarget: string;
}

/** One run of the AOF checker on `path`, its verdict. */
async function runAofChecker(engine: Engine, path: string): Promise<Omit<AofCheck, 'fixTarget'>> {
  const result = await runProgram(engine.checkAof, [path], { all: true, ...LONG_RUN });
  const output = result.all ?? '';
  const ok = result.exitCode === 0 && output.includes('is valid');
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const problem = lines.find((line) => /not valid|Bad file format|truncated|Cannot|Invalid|error/i.test(line));
  return { ok, message: ok ? 'AOF is valid' : (problem ?? lines.at(-1) ?? `${engine.checkAof} exited with ${result.exitCode}`), output };
}

/**
 * The base file of a manifest when it is an RDB under Valkey 9's `VALKEY` magic: valkey-check-aof
 * 9.1 looks for `REDIS` only and reads such a base as RESP, calling a healthy AOF invalid ("AOF
 * appendonly.aof.2.base.rdb format error"; valkey-io/valkey pull request 4739), while the server's
 * loader reads it as the RDB it is. Undefined otherwise.
 */
async function valkeyRdbBase(manifestPath: string): Promise<{ base: string; incr: string[] } | undefined> {
  if (!manifestPath.endsWith('.manifest')) return undefined;
  const text = await readFile(manifestPath, 'utf8').catch(() => '');
  const entries = [...text.matchAll(/^file (\S+) seq \d+ type ([bhi])/gm)].map((match) => ({ file: match[1] as string, type: match[2] }));
  const base = entries.find((entry) => entry.type === 'b')?.file;
  if (!base) return undefined;
  const path = join(dirname(manifestPath), base);
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { buffer } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    if (buffer.toString('latin1') !== 'VALKEY') return undefined;
  } finally {
    await handle.close();
  }
  return { base: path, incr: entries.filter((entry) => entry.type === 'i').map((entry) => join(dirname(manifestPath), entry.file)) };
}

/**
 * Runs `redis-check-aof <manifest>` (on 7.x it takes the manifest, not the directory; on Redis 6 the
 * single AOF file itself). Where Valkey 9.1's checker misreads its own RDB base
 * ({@link valkeyRdbBase}), the set is checked as the server loads it: the base with the engine's own
 * RDB checker, each incr file with its AOF checker, and the verdict says so.
 */
export async function checkAof(engine: Engine, manifestPath: string): Promise<AofCheck> {
  const whole = await runAofChecker(engine, manifestPath);
  if (whole.ok || !whole.message.includes('format error')) return { ...whole, fixTarget: manifestPath };
  const split = await valkeyRdbBase(manifestPath);
  if (!split || !whole.message.includes(split.base.slice(dirname(split.base).length + 1))) return { ...whole, fixTarget: manifestPath };
  const base = await checkRdb(engine, split.base);
  if (!base.ok)
    return {
      ok: false,
      message: `${split.base.slice(dirname(split.base).length + 1)}: ${base.message}`,
      output: base.output,
      fixTarget: manifestPath,
    };
  let output = `${whole.output}\n${base.output}`;
  for (const incr of split.incr) {
    const part = await runAofChecker(engine, incr);
    output += `\n${part.output}`;
    if (!part.ok) return { ...part, output, fixTarget: incr };
  }
  const note = `(the base ${split.base.slice(dirname(split.base).length + 1)} checked with ${engine.checkRdb}: ${engine.checkAof} misreads the VALKEY magic)`;
  return { ok: true, message: `AOF is valid ${note}`, output, fixTarget: split.incr.at(-1) ?? manifestPath };
}

const RDB_OPCODE_AUX = 0xfa;

/**
 * The AUX fields at the start of an RDB (or of an AOF with an RDB preamble): `redis-ver` /
 * `valkey-ver` (the version that wrote it), `ctime`… Reads the first 4 KiB only; stops at the first
 * field it cannot read. Empty when the file is missing or does not start like an RDB.
 */
export async function readRdbAux(path: string): Promise<Record<string, string>> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return {};
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const bytes = buffer.subarray(0, bytesRead);
    const aux: Record<string, string> = {};
    if (!/^(REDIS\d{4}|VALKEY\d{3})/.test(bytes.subarray(0, 9).toString('latin1'))) return aux;
    let offset = 9;
    const readString = (): string | undefined => {
      const first = bytes[offset] ?? 0xff;
      // 0b11 marks an encoded integer: 0xc0, 0xc1, 0xc2 for 8, 16, 32 bits (little-endian).
      const intBytes = { 0xc0: 1, 0xc1: 2, 0xc2: 4 }[first];
      if (intBytes !== undefined) {
        if (offset + 1 + intBytes > bytes.length) return undefined;
        const value = bytes.readIntLE(offset + 1, intBytes);
        offset += 1 + intBytes;
        return String(value);
      }
      if (first >> 6 === 3) return undefined;
      const { value, next } = readLength(bytes, offset);
      if (next + value > bytes.length) return undefined;
      offset = next + value;
      return bytes.subarray(next, next + value).toString('latin1');
    };
    while (bytes[offset] === RDB_OPCODE_AUX) {
      offset++;
      const key = readString();
      const value = key === undefined ? undefined : readString();
      if (key === undefined || value === undefined) break;
      aux[key] = value;
    }
    return aux;
  } finally {
    await handle.close();
  }
}

import { open } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { execa } from 'execa';
import type { Engine } from '../harness/engine.ts';

/** The first bytes of every RDB file: `REDIS` and a four-digit format version. */
const MAGIC = 'REDIS';

/** RDB format version of a file (`REDIS0010` → 10); throws when the file does not start like an RDB. */
export async function readRdbVersion(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(9), 0, 9, 0);
    const header = buffer.subarray(0, bytesRead).toString('latin1');
    const match = /^REDIS(\d{4})$/.exec(header);
    if (!header.startsWith(MAGIC) || !match) throw new Error(`${path} is not an RDB file (it does not start with "REDIS" and a version)`);
    return Number(match[1]);
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
  const child = execa(engine.checkRdb, [path], { reject: false, all: true });
  if (options.nice !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, options.nice);
    } catch {
      // Not allowed here (a lower value than ours): the checker runs at our priority.
    }
  }
  const result = await child;
  const output = result.all ?? '';
  const ok = result.exitCode === 0 && /RDB looks OK/.test(output);
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
    message: ok ? 'RDB looks OK' : verdict || `${engine.checkRdb} exited with status ${result.exitCode}`,
    keys: number('keys read'),
    alreadyExpired: number('already expired'),
    databases,
    output,
  };
}

/** Outcome of the engine's AOF checker on a Redis 7 AOF manifest. */
export interface AofCheck {
  ok: boolean;
  message: string;
  output: string;
}

/** Runs `redis-check-aof <manifest>` (on 7.x it takes the manifest, not the directory). */
export async function checkAof(engine: Engine, manifestPath: string): Promise<AofCheck> {
  const result = await execa(engine.checkAof, [manifestPath], { reject: false, all: true, input: '' });
  const output = result.all ?? '';
  const ok = result.exitCode === 0 && /is valid/.test(output);
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const problem = lines.find((line) => /not valid|Bad file format|truncated|Cannot|Invalid|error/i.test(line));
  return { ok, message: ok ? 'AOF is valid' : (problem ?? lines.at(-1) ?? `${engine.checkAof} exited with ${result.exitCode}`), output };
}

import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { engineTraits } from '../../engines/catalog.ts';
import { exec } from '../exec.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { backup } from '../../procedures/backup.ts';
import { parseAofManifest } from '../../redis/aof.ts';
import { scratchBackups } from './rollback.ts';
import type { WithClient } from './docker.ts';

/**
 * Fixtures for the troubleshooting and integrity pages: a server's files damaged the way a crash, a
 * full disk or bad hardware leaves them. Each fixture works on a stopped disposable server; the page's
 * command is then what a reader runs to see the damage or repair it.
 */

/** The value of `user:N`: a plain string, so its bytes can be found (and changed) in the files. */
export const userValue = (n: number) => `name-${n}`;

/** `SET user:N name-N` for N in from..to, one command each (one AOF entry each, in order). */
export async function writeUsers(server: WithClient, from: number, to: number): Promise<void> {
  await server.withClient(async (client) => {
    for (let n = from; n <= to; n++) await client.set(`user:${n}`, userValue(n));
  });
}

/** The `user:N` numbers the running server holds, sorted. */
export async function userNumbers(server: DisposableRedis): Promise<number[]> {
  return server.withClient(async (client) => {
    const keys = await client.keys('user:*');
    return keys.map((key) => Number(key.slice('user:'.length))).sort((a, b) => a - b);
  });
}

/** 1..n. */
export const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Users 1..200, a backup of them (the CLI's procedure, into scratch/backups), then users 201..300 and a clean stop. */
export async function usersBackedUpThenMore(server: DisposableRedis, scratch: string): Promise<void> {
  await writeUsers(server, 1, 200);
  await server.withClient((client) =>
    backup({ client, source: { host: server.host, port: server.port }, engine: server.engine, to: scratchBackups(scratch) }),
  );
  await writeUsers(server, 201, 300);
  await server.stop();
}

/** Path of the last incremental file of the AOF set (from the manifest). */
export async function lastIncrFile(dataDir: string): Promise<string> {
  const entries = parseAofManifest(await readFile(join(dataDir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'));
  const incr = entries.filter((entry) => entry.type === 'i').at(-1);
  assert.ok(incr, 'the AOF set has an incr file');
  return join(dataDir, 'appendonlydir', incr.file);
}

/** The file a server's AOF writes land in: its one `appendonly.aof` (Redis 6.0), else the last incr file of its AOF set. */
export async function lastAofFile(server: DisposableRedis): Promise<string> {
  return engineTraits(server.engine.id).aofLayout === 'file' ? join(server.dir, 'appendonly.aof') : lastIncrFile(server.dir);
}

/** Cuts the last `bytes` bytes off a file (a write cut short by a crash or a full disk). */
export async function cutShort(file: string, bytes: number): Promise<void> {
  const { size } = await stat(file);
  await truncate(file, size - bytes);
}

/** Changes the first byte of the first occurrence of `text` to upper case (a bit flipped by a bad disk or RAM). */
export async function changeByteOf(file: string, text: string): Promise<void> {
  const bytes = await readFile(file);
  const at = bytes.indexOf(text);
  assert.ok(at >= 0, `"${text}" is in ${file}`);
  bytes[at] = Buffer.from(text[0]?.toUpperCase() ?? '')[0] as number;
  await writeFile(file, bytes);
}

/** Offsets of the commands of an AOF file: each starts a line with `*` (the RESP array of its arguments). */
function commandOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x2a && (i === 0 || bytes[i - 1] === 0x0a)) offsets.push(i);
  return offsets;
}

/** Overwrites the first byte of the `n`-th command (1-based) of an AOF file with `!`: garbage inside the file. */
export async function breakCommand(file: string, n: number): Promise<void> {
  const bytes = await readFile(file);
  const at = commandOffsets(bytes)[n - 1];
  assert.ok(at !== undefined, `${file} has ${n} commands`);
  bytes[at] = 0x21;
  await writeFile(file, bytes);
}

/** Starts the stopped server and asserts that it exits instead, having logged a line matching `line`. */
export async function assertStartFails(server: DisposableRedis, line: RegExp, extraConfig: Record<string, string> = {}): Promise<void> {
  await assert.rejects(server.start(extraConfig), /redis-server exited during start/);
  assert.match(await server.log(), line);
}

/**
 * What the integrity page's repair does, for fixtures: `redis-check-aof --fix` on a copy `appendonlydir.fix`
 * (where the AOF is one file, Redis 6.0: on a copy `appendonly.aof.fix`).
 */
export async function fixCopy(server: DisposableRedis): Promise<void> {
  if (engineTraits(server.engine.id).aofLayout === 'file') {
    const copy = join(server.dir, 'appendonly.aof.fix');
    await exec('cp', ['-a', join(server.dir, 'appendonly.aof'), copy]);
    const fixed = await exec(server.engine.checkAof, ['--fix', copy], { input: 'y\n', reject: false });
    assert.match(fixed.stdout, /Successfully truncated AOF/);
    return;
  }
  await exec('cp', ['-a', join(server.dir, 'appendonlydir'), join(server.dir, 'appendonlydir.fix')]);
  // As the integrity page repairs it: the manifest, or where the checker misreads the RDB base (Valkey 9.1) the last incr file.
  const target = engineTraits(server.engine.id).checkAofMisreadsBase ? basename(await lastIncrFile(server.dir)) : 'appendonly.aof.manifest';
  const fixed = await exec(server.engine.checkAof, ['--fix', join(server.dir, 'appendonlydir.fix', target)], {
    input: 'y\n',
    reject: false,
  });
  assert.match(fixed.stdout, /Successfully truncated AOF/);
}

/** Empties the data dir of a stopped server (a fixture's files, the aside folders of an earlier run). */
export async function emptyDataDir(server: DisposableRedis): Promise<void> {
  assert.equal(server.running, false);
  for (const name of await readdir(server.dir)) await rm(join(server.dir, name), { recursive: true, force: true });
}

/** An AOF server's users 1..20 (one write each in the incr file, or Redis 6.0's appendonly.aof), a clean stop, then `damage` done to that file. */
export async function damagedAof(server: DisposableRedis, damage: (incr: string) => Promise<void>): Promise<void> {
  await writeUsers(server, 1, 20);
  await server.stop();
  await damage(await lastAofFile(server));
}

/** The last whole-command damage of an AOF: its last write cut 5 bytes short. */
export const cutLastWrite = (incr: string) => cutShort(incr, 5);

/** Garbage in the middle of an AOF: the 12th command (the 11th SET, after the SELECT) broken. */
export const breakEleventhWrite = (incr: string) => breakCommand(incr, 12);
